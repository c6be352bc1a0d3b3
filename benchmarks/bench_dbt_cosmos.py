"""The dbt part of a day's run under Cosmos vs plain `dbt build` of the same models, same data.

One day is landed, gated and archived once (the pipeline's own functions) into a template
database. Each measurement starts from a copy of it (PostgreSQL `create database ...
template`), so every contender transforms identical data:

- subject, per Cosmos execution setting (``LIFTOFF_DBT_EXECUTION``): `airflow dags test
  sales_elt` with the source task groups marked successful, so only the transform gate and
  the dbt layers run; timed from the first dbt task's start to the last one's end, as
  Airflow's metadata recorded them;
- baseline: one `dbt build` command of the same project for the same interval, whole.

The goal (#6) is the default setting at most 1.3x the baseline. Every setting's ratio is
printed (each to the baselines measured beside it); the result's subject is the default.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import tempfile
from contextlib import closing
from datetime import date, datetime
from pathlib import Path

from benchmarks.bench_daily_run import dbt_build
from benchmarks.harness import Result, pg_server, scratch_database, timed
from liftoff.archive.store import LocalFolderStore
from liftoff.batch import Interval
from liftoff.config import Settings, load_sources
from liftoff.local.airflow_runner import airflow_env, ensure_metadata_db, run_day
from liftoff.pipeline import archive, ingest, validate
from liftoff.transform.task_groups import (
    DBT_EXECUTION_SETTINGS,
    DEFAULT_DBT_EXECUTION,
    LAYERS,
)
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from sales_api.server import BackgroundApi

DAY = date(2026, 11, 20)


def land_the_day(target: Warehouse, api_url: str, home: Path) -> None:
    os.environ["LIFTOFF_API_URL"] = api_url
    interval = Interval.for_day(DAY)
    settings = Settings(home=home)
    with target.connect() as conn:
        bootstrap(conn, settings=settings)
    for name, source in load_sources().items():
        if source.is_streamed:  # no broker here: the Airflow run skips it too (airflow_env)
            continue
        if not source.is_pushed:  # a pushed source's rows are written by its app, none today
            ingest(name, source, interval, target, settings)
        validate(name, source, interval, target)
        archive(name, source, interval, target, store=LocalFolderStore(home / "archive"))


def cosmos_run(target: Warehouse, api_url: str, home: Path, execution: str) -> float:
    """Seconds from the first dbt layer task's start to the last one's end, as Airflow recorded them."""
    settings = Settings(home=home)
    env = {**airflow_env(settings, target, api_url), "LIFTOFF_DBT_EXECUTION": execution}
    ensure_metadata_db(env)
    sources = "|".join(load_sources())
    outcome = run_day(DAY, env, home / "logs", mark_success=rf"(?:{sources})\..*")
    if not outcome.ok:
        raise RuntimeError(f"sales_elt ({execution}) failed: {outcome.reason}; see {outcome.log_path}")
    return layer_tasks_span(Path(env["AIRFLOW_HOME"]) / "airflow.db")


def layer_tasks_span(metadata_db: Path) -> float:
    layers = " or ".join(f"task_id like '{layer}.%'" for layer in LAYERS)
    with closing(sqlite3.connect(metadata_db)) as conn:
        first, last = conn.execute(
            f"select min(start_date), max(end_date) from task_instance where {layers}"
        ).fetchone()
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()


def run(repeat: int = 3) -> Result:
    """Each setting alternates with a baseline of its own, so each ratio compares neighbours."""
    seconds: dict[str, list[float]] = {execution: [] for execution in DBT_EXECUTION_SETTINGS}
    baselines: dict[str, list[float]] = {execution: [] for execution in DBT_EXECUTION_SETTINGS}
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi() as api:
        root = Path(tmp)
        with scratch_database(server) as template:
            land_the_day(template, api.url, root / "landing-home")
            for attempt in range(repeat):
                for execution in DBT_EXECUTION_SETTINGS:
                    with scratch_database(server, template) as target:
                        baselines[execution].append(timed(lambda t=target: dbt_build(t, DAY)))
                    home = root / f"{execution}-{attempt}"
                    with scratch_database(server, template) as target:
                        seconds[execution].append(cosmos_run(target, api.url, home, execution))
    notes = {
        f"{execution}_ratio": round(statistics.median(times) / statistics.median(baselines[execution]), 2)
        for execution, times in seconds.items()
    }
    return Result(
        "dbt_cosmos",
        f"cosmos_{DEFAULT_DBT_EXECUTION}",
        "dbt_build",
        seconds[DEFAULT_DBT_EXECUTION],
        baselines[DEFAULT_DBT_EXECUTION],
        notes,
    )
