"""A 10-day backfill through a real Airflow scheduler, as on-call runs it.

PostgreSQL metadata, LocalExecutor, scheduler + DAG processor + API server as separate
processes, and `airflow backfill create` with several runs at once. Then every gold table
must equal the independent computation from the demo APIs' rows, the days must have
synced in parallel, and their transforms must have gone in date order.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from tests.integration.airflow_cluster import AirflowCluster, day_of
from tests.integration.expected import assert_gold_matches, expected_after

DAYS = [date(2026, 11, 10) + timedelta(days=offset) for offset in range(10)]


@pytest.mark.integration
def test_ten_day_backfill_through_the_scheduler(database_factory, api_server_factory, tmp_path: Path) -> None:
    api = api_server_factory(dirty_fraction=0.04)  # some rejects, duplicates and outliers every day
    warehouse, metadata = database_factory("liftoff_backfill"), database_factory("airflow_metadata")
    with AirflowCluster(tmp_path / "home", metadata, warehouse, api.url) as cluster:
        cluster.wait_for_dag("sales_elt")
        cluster.airflow("dags", "unpause", "sales_elt")
        cluster.airflow(
            "backfill", "create", "--dag-id", "sales_elt",
            "--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat(),
            "--max-active-runs", "3", "--reprocess-behavior", "failed",
        )  # fmt: skip
        runs = cluster.wait_for_runs("sales_elt", len(DAYS), timeout=3600)
        tasks = cluster.task_instances("sales_elt")
        report = cluster.failure_report("sales_elt", tasks)

    failed = [(t["run_id"], t["task_id"], t["state"]) for t in tasks if t["state"] != "success"]
    assert not failed, f"tasks that did not succeed: {failed[:10]}\n{report}"
    assert [day_of(run) for run in runs] == DAYS
    assert {run["run_type"] for run in runs} == {"backfill"} and {run["state"] for run in runs} == {"success"}

    by_run = {run["run_id"]: day_of(run) for run in runs}
    ingests = sorted((t["start_date"], t["end_date"]) for t in tasks if t["task_id"] == "crm.ingest")
    overlapping = sum(1 for a, b in pairwise(ingests) if b[0] < a[1])
    assert overlapping >= 1, "days of a backfill sync in parallel"
    done = {by_run[t["run_id"]]: t["end_date"] for t in tasks if t["task_id"] == "transformed"}
    for t in tasks:
        day = by_run[t["run_id"]]
        if t["task_id"].startswith("bronze.") and day != DAYS[0]:
            assert t["start_date"] >= done[day - timedelta(days=1)], (
                f"{day}'s bronze began before {day}'s eve"
            )

    with warehouse.connect() as conn:
        assert_gold_matches(conn, expected_after(api.url, DAYS), DAYS)
        outliers = conn.execute("select count(*) from silver.silver_sales where is_outlier").fetchone()[0]
        assert outliers > 0, "the dirty API's outliers were flagged and left out of gold"
