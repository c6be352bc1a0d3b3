"""A month's backfill on the real scheduler vs the serial sum of its days' floors.

Subject: `airflow backfill create` of 30 days of `sales_elt` (`--max-active-runs 4`, as the
runbook types it) on a real deployment in miniature: PostgreSQL metadata, LocalExecutor,
the scheduler, DAG processor, triggerer and API server as separate processes, parallelism 4
on 2 cores (`liftoff.local.airflow_deployment`, the settings `liftoff airflow` uses); from the
command to the 30th run's success. Baseline in the same run: each day's floor, one day after
another on one warehouse (COPY of the day's rows into landing, the batches' audit rows, one
plain `dbt build` with the day in its environment: `bench_daily_run`'s floor), summed. Days that sync
and build their bronze side by side should beat a serial loop; their silver and gold still go in
date order.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.bench_daily_run import api_rows, dbt_build, land_gated
from benchmarks.harness import (
    Result,
    busy_cpu_seconds,
    component_cpu_seconds,
    cpu_by_component,
    pg_server,
    scratch_database,
)
from liftoff.config import load_sources
from liftoff.warehouse.bootstrap import bootstrap
from sales_api.server import BackgroundApi
from tests.integration.airflow_cluster import AirflowCluster, day_of

FIRST_DAY = date(2026, 10, 1)
DAYS = 30
# backfill_365d: a year ending before today's date; its floor from every FLOOR_SAMPLE-th day's
# (in date order on one warehouse, as the month's), scaled to the year: 31 floors, not 365.
YEAR_FIRST_DAY = date(2025, 11, 1)
YEAR_DAYS = 365
FLOOR_SAMPLE = 12
MAX_ACTIVE_RUNS = 4
# A day's dbt tasks (the `layer` setting); its part of the chain of days, in order: silver and
# gold wait for the eve's `transformed`, bronze (the day's own slice) does not.
DBT_TASKS = ("bronze.build", "silver.build", "gold.build")
CHAIN = ("silver.build", "gold.build", "transformed")


def serial_floors(server, api_url: str, days: list[date]) -> tuple[list[float], float]:
    """Each day's floor in date order on one warehouse (the rows are fetched before the clock),
    and the machine's busy CPU seconds over them."""
    floors, cpu = [], 0.0
    with scratch_database(server) as target:
        with target.connect() as conn:
            bootstrap(conn, list(load_sources()))
        for day in days:
            rows = api_rows(api_url, day)
            started, busy = time.perf_counter(), busy_cpu_seconds()
            land_gated(target, rows, day)
            dbt_build(target, day)
            floors.append(time.perf_counter() - started)
            cpu += busy_cpu_seconds() - busy
    return floors, cpu


def backfill(server, api_url: str, home: Path, days: list[date]) -> tuple[float, dict]:
    """The backfill's wall time on the real scheduler, and what it did."""
    with (
        scratch_database(server) as warehouse,
        scratch_database(server) as metadata,
        AirflowCluster(home, metadata, warehouse, api_url) as cluster,
    ):
        cluster.wait_for_dag("sales_elt")
        cluster.airflow("dags", "unpause", "sales_elt")
        started, busy, components = time.perf_counter(), busy_cpu_seconds(), component_cpu_seconds()
        cluster.airflow(
            "backfill", "create", "--dag-id", "sales_elt",
            "--from-date", days[0].isoformat(), "--to-date", days[-1].isoformat(),
            "--max-active-runs", str(MAX_ACTIVE_RUNS), "--reprocess-behavior", "failed",
        )  # fmt: skip
        runs = cluster.wait_for_runs("sales_elt", len(days), timeout=max(7200, 60 * len(days)))
        elapsed, cpu = time.perf_counter() - started, busy_cpu_seconds() - busy
        by_component = cpu_by_component(components, component_cpu_seconds())
        # the rest: the connector syncs, the demo API and this process (the command's client)
        by_component["other"] = cpu - sum(by_component.values())
        if {run["state"] for run in runs} != {"success"} or [day_of(run) for run in runs] != days:
            tasks = cluster.task_instances("sales_elt")
            raise RuntimeError(f"the backfill did not succeed:\n{cluster.failure_report('sales_elt', tasks)}")
        tasks = cluster.task_instances("sales_elt")
    ingests = sorted((t["start_date"], t["end_date"]) for t in tasks if t["task_id"] == "crm.ingest")
    most = max(sum(1 for s, e in ingests if s <= start < e) for start, _ in ingests)
    dbt_tasks = [t for t in tasks if t["task_id"] in DBT_TASKS]
    by_run = tasks_by_run(tasks)
    run_ids = [run["run_id"] for run in runs]
    dbt_seconds = statistics.median((t["end_date"] - t["start_date"]).total_seconds() for t in dbt_tasks)
    return elapsed, {
        "cpu_per_day_s": round(cpu / len(days), 2),
        "cpu_per_day_by_component_s": {name: round(sec / len(days), 2) for name, sec in by_component.items()},
        "tasks": len(tasks),
        "most_syncs_at_once": most,
        "dbt_tasks_a_day": len(dbt_tasks) // len(days),
        "dbt_task_median_s": round(dbt_seconds, 2),
        "chain_gap_median_s": round(statistics.median(chain_gaps(by_run)), 2),
        "eve_gap_median_s": round(statistics.median(eve_gaps(by_run, run_ids)), 2),
        "bronze_before_eve_done": bronze_ahead(by_run, run_ids),
    }


def tasks_by_run(tasks: list[dict]) -> dict[str, dict[str, dict]]:
    by_run: dict[str, dict[str, dict]] = {}
    for task in tasks:
        by_run.setdefault(task["run_id"], {})[task["task_id"]] = task
    return by_run


def eve_gaps(by_run: dict[str, dict[str, dict]], run_ids: list[str]) -> list[float]:
    """From each eve's ``transformed`` end to its next day's silver start: the wait's part (the
    triggerer's poll, ending the sensor, the scheduler's loop)."""
    return [
        (by_run[day][CHAIN[0]]["start_date"] - by_run[eve][CHAIN[-1]]["end_date"]).total_seconds()
        for eve, day in itertools.pairwise(run_ids)
    ]


def bronze_ahead(by_run: dict[str, dict[str, dict]], run_ids: list[str]) -> int:
    """How many days had their bronze built before their eve was transformed (off the chain)."""
    return sum(
        by_run[day][DBT_TASKS[0]]["end_date"] <= by_run[eve][CHAIN[-1]]["end_date"]
        for eve, day in itertools.pairwise(run_ids)
    )


def chain_gaps(by_run: dict[str, dict[str, dict]]) -> list[float]:
    """Within each day, the seconds from one transform task's end to the next one's start:
    the scheduler's part of the chain (its loop, the executor, the task process's start)."""
    return [
        (run[after]["start_date"] - run[before]["end_date"]).total_seconds()
        for run in by_run.values()
        for before, after in itertools.pairwise(CHAIN)
        if before in run and after in run
    ]


def run(days: int = DAYS) -> Result:
    month = [FIRST_DAY + timedelta(days=n) for n in range(days)]
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi() as api:
        floors, floor_cpu = serial_floors(server, api.url, month)
        elapsed, seen = backfill(server, api.url, Path(tmp) / "home", month)
    notes = {
        "days": days,
        "floor_per_day_s": round(sum(floors) / days, 2),
        "floor_cpu_per_day_s": round(floor_cpu / days, 2),
        **seen,
    }
    return Result("backfill_30d", "airflow_backfill", "serial_floors", [elapsed], [sum(floors)], notes)


def run_year() -> Result:
    """backfill_365d: a year's backfill, against the serial floors of a sample of its days
    scaled to the year (the wall time is the figure: under an hour is the goal, #28)."""
    year = [YEAR_FIRST_DAY + timedelta(days=n) for n in range(YEAR_DAYS)]
    sample = year[::FLOOR_SAMPLE]
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi() as api:
        floors, floor_cpu = serial_floors(server, api.url, sample)
        elapsed, seen = backfill(server, api.url, Path(tmp) / "home", year)
    per_day = sum(floors) / len(sample)
    notes = {
        "days": YEAR_DAYS,
        "wall_minutes": round(elapsed / 60, 1),
        "floor_days_sampled": len(sample),
        "floor_per_day_s": round(per_day, 2),
        "floor_cpu_per_day_s": round(floor_cpu / len(sample), 2),
        **seen,
    }
    return Result(
        "backfill_365d", "airflow_backfill", "serial_floors", [elapsed], [per_day * YEAR_DAYS], notes
    )
