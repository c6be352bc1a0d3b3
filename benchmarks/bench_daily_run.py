"""One day's run end to end through Airflow vs its floor: COPY the same rows + plain `dbt build`.

Subject: `airflow dags test sales_elt` for one day (PyAirbyte sync, contract gate,
archive, the Cosmos task groups), on a fresh database. Baseline, on another fresh
database: COPY of the very rows the API serves for that day (already in a CSV file) into
the landing table, the batch's audit row, then one `dbt build` of the same models with
the same vars. The ratio is the price of orchestration, ingestion and the gate.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import httpx

from benchmarks.harness import Result, pg_server, scratch_database, timed
from liftoff.airflow_runner import airflow_env, ensure_metadata_db, run_day
from liftoff.batch import Batch, Interval
from liftoff.config import DBT_PROJECT_DIR, TELEMETRY_OFF, Settings
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.target import WarehouseTarget
from sales_api.server import BackgroundApi

DAY = date(2026, 11, 20)
COLUMNS = ("sale_id", "seller_email", "product", "quantity", "amount", "sold_at", "updated_at")


def api_rows_to_csv(api_url: str, path: Path) -> int:
    params = {"updated_since": f"{DAY}T00:00:00Z", "updated_until": f"{DAY}T23:59:59Z", "page_size": 1000}
    rows = httpx.get(f"{api_url}/sales", params=params).json()["data"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        for row in rows:
            writer.writerow([row[c] for c in COLUMNS])
    return len(rows)


def copy_and_dbt_build(target: WarehouseTarget, csv_path: Path) -> None:
    interval = Interval.for_day(DAY)
    batch = Batch("crm", "sales", "updated_at", interval)
    with target.connect() as conn:
        conn.execute(
            "create table raw_crm.sales (sale_id varchar, seller_email varchar, product varchar,"
            " quantity numeric(38, 9), amount varchar, sold_at varchar, updated_at varchar,"
            " _airbyte_raw_id varchar default gen_random_uuid()::text,"
            " _airbyte_extracted_at timestamp default now(), _airbyte_meta json default '{}')"
        )
        with conn.cursor().copy(f"copy raw_crm.sales ({', '.join(COLUMNS)}) from stdin (format csv)") as copy:
            copy.write(csv_path.read_bytes())
        conn.execute(
            "insert into audit.batches (batch_id, source, stream, interval_start, interval_end, contract,"
            " contract_version, status) values (%s, 'crm', 'sales', %s, %s, 'Sale', '1.0.0', 'validated')",
            (batch.batch_id, interval.start, interval.end),
        )
        conn.commit()
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        **target.dbt_env,
    }
    variables = (
        f'{{"interval_start": "{interval.start.isoformat()}", "interval_end": "{interval.end.isoformat()}"}}'
    )
    dbt = str(Path(sys.executable).with_name("dbt"))
    done = subprocess.run(
        [dbt, "build", "--profiles-dir", ".", "--vars", variables, "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dbt build failed: {done.stdout[-2000:]}")


def run(repeat: int = 2) -> Result:
    subject, baseline = [], []
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi() as api:
        csv_path = Path(tmp) / "sales.csv"
        rows = api_rows_to_csv(api.url, csv_path)
        settings = Settings(home=Path(tmp) / "home")
        for _ in range(repeat):
            with scratch_database(server) as target:
                with target.connect() as conn:
                    bootstrap(conn, ["crm"])
                baseline.append(timed(lambda t=target: copy_and_dbt_build(t, csv_path)))
            with scratch_database(server) as target:
                env = airflow_env(settings, target, api.url)
                ensure_metadata_db(env)
                outcome_holder = {}

                def airflow_run(env=env, holder=outcome_holder) -> None:
                    holder["outcome"] = run_day(DAY, env, settings.home / "logs")

                subject.append(timed(airflow_run))
                if not outcome_holder["outcome"].ok:
                    raise RuntimeError(f"sales_elt failed: {outcome_holder['outcome'].reason}")
    return Result("daily_run", "airflow_sales_elt", "copy_plus_dbt_build", subject, baseline, {"rows": rows})
