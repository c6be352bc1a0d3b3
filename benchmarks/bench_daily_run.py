"""One day's run end to end through Airflow vs its floor: COPY the same rows + plain `dbt build`.

Subject: `airflow dags test sales_elt` for one day, on a fresh database: local ingest of the
CRM and the web shop (the default mode: ``liftoff.ingest.local`` starts ``cdk_runner.py`` in
``.venv-airbyte``, where the Airbyte CDK runs each declarative manifest and COPYs its records
into landing), the entry app's pushed source (no sync), contract gate, archive, the Cosmos
task groups; the `pos` stream source is skipped (no broker is given). Baseline, on another
fresh database: COPY of the very rows the APIs serve for that day into the landing tables,
the batches' audit rows, then one `dbt build` of the same models for the same interval. The
ratio is the price of orchestration, ingestion and the gate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import httpx
from psycopg import sql

from benchmarks.harness import Result, pg_server, scratch_database, timed
from liftoff.batch import Batch, Interval
from liftoff.config import DBT_PROJECT_DIR, TELEMETRY_OFF, Settings, load_sources
from liftoff.local.airflow_runner import airflow_env, ensure_metadata_db, run_day
from liftoff.transform.task_groups import PIPELINE_DBT_ENV, interval_env
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from sales_api.server import BackgroundApi
from tests.integration.expected import api_orders, api_sales
from tests.integration.landing import land

DAY = date(2026, 11, 20)


def api_rows(api_url: str, day: date = DAY) -> dict[tuple[str, str], list[dict]]:
    """Every stream's rows for the day, straight from the demo APIs (no connector)."""
    return {
        ("crm", "sales"): api_sales(api_url, day),
        ("crm", "sellers"): httpx.get(f"{api_url}/sellers").json()["data"],
        ("crm", "products"): httpx.get(f"{api_url}/products").json()["data"],
        ("shop", "orders"): api_orders(api_url, day),
    }


def land_gated(target: Warehouse, rows: dict[tuple[str, str], list[dict]], day: date = DAY) -> None:
    """COPY the day's rows into landing and mark its batches validated (the gate, taken as passed)."""
    interval = Interval.for_day(day)
    sources = load_sources()
    with target.connect() as conn:
        for (source, stream), stream_rows in rows.items():
            if sources[source].streams[stream].sync == "full_refresh":
                conn.execute(
                    sql.SQL("drop table if exists {}").format(sql.Identifier(f"raw_{source}", stream))
                )
            land(conn, stream, stream_rows, source=source)
            batch = Batch.of(source, stream, sources[source].streams[stream], interval)
            conn.execute(
                "insert into audit.batches (batch_id, source, stream, interval_start, interval_end,"
                " contract, contract_version, status, landed, accepted)"
                " values (%s, %s, %s, %s, %s, 'bench', '0', 'validated', %s, %s)",
                (
                    batch.batch_id,
                    source,
                    stream,
                    interval.start,
                    interval.end,
                    len(stream_rows),
                    len(stream_rows),
                ),
            )
        conn.commit()


def dbt_build(target: Warehouse, day: date = DAY) -> dict[str, float]:
    """One plain `dbt build` of the whole project for the day (its interval in the environment,
    as Airflow passes it); returns each node's seconds (dbt's run_results.json)."""
    bounds = interval_env(Interval.for_day(day))
    env = {**os.environ, **TELEMETRY_OFF, **target.dbt_env, **PIPELINE_DBT_ENV, **bounds}
    dbt = str(Path(sys.executable).with_name("dbt"))
    done = subprocess.run(
        [dbt, "build", "--profiles-dir", ".", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dbt build failed: {done.stdout[-2000:]}")
    results = json.loads((DBT_PROJECT_DIR / "target" / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result["execution_time"] for result in results}


def copy_and_dbt_build(target: Warehouse, rows: dict[tuple[str, str], list[dict]]) -> None:
    """The floor: COPY the rows into landing, mark the batches validated, one `dbt build`."""
    land_gated(target, rows)
    dbt_build(target)


def run(repeat: int = 2) -> Result:
    subject, baseline = [], []
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi() as api:
        rows = api_rows(api.url)
        settings = Settings(home=Path(tmp) / "home")
        for _ in range(repeat):
            with scratch_database(server) as target:
                with target.connect() as conn:
                    bootstrap(conn, list(load_sources()))
                baseline.append(timed(lambda t=target: copy_and_dbt_build(t, rows)))
            with scratch_database(server) as target:
                with target.connect() as conn:  # a deployment's warehouse is bootstrapped once
                    bootstrap(conn, list(load_sources()))
                env = airflow_env(settings, target, api.url)
                ensure_metadata_db(env)
                outcome_holder = {}

                def airflow_run(env=env, holder=outcome_holder) -> None:
                    holder["outcome"] = run_day(DAY, env, settings.home / "logs")

                subject.append(timed(airflow_run))
                if not outcome_holder["outcome"].ok:
                    raise RuntimeError(f"sales_elt failed: {outcome_holder['outcome'].reason}")
    notes = {f"{source}_{stream}_rows": len(stream_rows) for (source, stream), stream_rows in rows.items()}
    return Result("daily_run", "airflow_sales_elt", "copy_plus_dbt_build", subject, baseline, notes)
