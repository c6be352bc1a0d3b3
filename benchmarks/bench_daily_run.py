"""One day's run as users get it, on a running deployment, vs its floor: COPY the same rows + `dbt build`.

Subject: a day of `sales_elt` triggered on a running deployment in miniature (the scheduler,
DAG processor, triggerer and API server of ``liftoff airflow`` as separate processes,
LocalExecutor with preloaded workers: ``tests.integration.airflow_cluster``), from the run's
queueing to its end (``dag_run.queued_at`` to ``end_date``): local ingest of the CRM and the
web shop (``cdk_runner.py`` in ``.venv-airbyte``: the Airbyte CDK runs each declarative
manifest and COPYs its records into landing), the entry app's pushed source (no sync),
contract gate, archive, the Cosmos task groups; the `pos` stream source is skipped (no
broker is given). Five days, one after another, so each day's transform finds its previous
day done. Baseline, the same days in the same order on a warehouse of its own (the first day
on an empty one, as the subject's): COPY of the very rows the APIs serve for that day into
the landing tables, the batches' audit rows, then one `dbt build` of the same models for the
same interval. The ratio is the price of orchestration, ingestion and the
gate. Noted: the same day run cold (``airflow dags test`` in a fresh process, as
``liftoff run`` does: Airflow's start, the DAG's parse), once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from psycopg import sql

from benchmarks.harness import Result, alternate, pg_server, scratch_database
from liftoff.batch import Batch, Interval
from liftoff.config import DBT_PROJECT_DIR, TELEMETRY_OFF, Settings, load_sources
from liftoff.dag_defaults import DAG_ID
from liftoff.local.airflow_api import AirflowApi
from liftoff.local.airflow_deployment import ADMIN_USER, Login, read_admin_password
from liftoff.local.airflow_runner import airflow_env, ensure_metadata_db, run_day
from liftoff.transform.task_groups import PIPELINE_DBT_ENV, interval_env
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from sales_api.server import BackgroundApi
from tests.integration.airflow_cluster import AirflowCluster
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


def copy_and_dbt_build(target: Warehouse, rows: dict[tuple[str, str], list[dict]], day: date = DAY) -> None:
    """The floor: COPY the rows into landing, mark the batches validated, one `dbt build`."""
    land_gated(target, rows, day)
    dbt_build(target, day)


def cold_run(server, api_url: str, home: Path, day: date = DAY) -> float:
    """The day through ``airflow dags test`` in a fresh process (``liftoff run``), on a fresh database."""
    settings = Settings(home=home)
    with scratch_database(server) as target:
        with target.connect() as conn:  # a deployment's warehouse is bootstrapped once
            bootstrap(conn, list(load_sources()))
        env = airflow_env(settings, target, api_url)
        ensure_metadata_db(env)
        started = time.perf_counter()
        outcome = run_day(day, env, settings.home / "logs")
        elapsed = time.perf_counter() - started
    if not outcome.ok:
        raise RuntimeError(f"sales_elt failed: {outcome.reason}")
    return elapsed


def deployed_run(cluster: AirflowCluster, api: AirflowApi, day: date) -> float:
    """Run ``day`` on the running deployment as ``liftoff run`` does (Airflow's REST API);
    seconds from its queueing to its success."""
    run, _ = api.run_day(DAG_ID, day)
    if api.wait(DAG_ID, run.run_id, poll=0.5) != "success":
        tasks = [t for t in cluster.task_instances(DAG_ID) if t["run_id"] == run.run_id]
        raise RuntimeError(f"sales_elt failed for {day}:\n{cluster.failure_report(DAG_ID, tasks)}")
    with cluster.metadata.connect() as conn:
        queued, ended = conn.execute(
            "select queued_at, end_date from public.dag_run where dag_id = %s and run_id = %s",
            (DAG_ID, run.run_id),
        ).fetchone()
    return (ended - queued).total_seconds()


def run(repeat: int = 5) -> Result:
    days = [DAY + timedelta(days=n) for n in range(repeat)]
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi() as api:
        rows = {day: api_rows(api.url, day) for day in days}
        cold = cold_run(server, api.url, Path(tmp) / "cold")

        subject_days, floor_days = iter(days), iter(days)

        with (
            scratch_database(server) as floor_warehouse,
            scratch_database(server) as warehouse,
            scratch_database(server) as metadata,
            AirflowCluster(Path(tmp) / "home", metadata, warehouse, api.url) as cluster,
        ):
            cluster.wait_for_dag(DAG_ID)
            cluster.airflow("dags", "unpause", DAG_ID)
            password = read_admin_password(Settings(home=cluster.home))
            api = AirflowApi(Login(cluster.url, ADMIN_USER, password))
            with floor_warehouse.connect() as conn:
                bootstrap(conn, list(load_sources()))

            def floor() -> float:
                day = next(floor_days)
                started = time.perf_counter()
                copy_and_dbt_build(floor_warehouse, rows[day], day)
                return time.perf_counter() - started

            subject, baseline = alternate(
                lambda: deployed_run(cluster, api, next(subject_days)), floor, repeat
            )
    notes = {
        f"{source}_{stream}_rows": len(stream_rows) for (source, stream), stream_rows in rows[DAY].items()
    }
    return Result(
        "daily_run", "deployed_sales_elt", "copy_plus_dbt_build", subject, baseline,
        {**notes, "cold_dags_test_s": round(cold, 1)},
    )  # fmt: skip
