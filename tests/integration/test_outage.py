"""An outage of the warehouse mid-run is retried by Airflow, and gold ends as a clean run's.

Every backend of the pipeline is terminated twice while a day runs: first the tasks'
own connections (`liftoff-pipeline`: ingest, validation, archive), then dbt's (`dbt`),
as a PostgreSQL restart would. Each failed task is retried with Airflow's backoff, and the
run succeeds with gold equal to the independent computation.
"""

from __future__ import annotations

import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from liftoff.airflow_runner import PIPELINE_APPLICATION_NAME
from liftoff.warehouse.location import Warehouse
from tests.integration.expected import assert_gold_matches, expected_after
from tests.integration.test_sales_elt_e2e import LIFTOFF, run_env

DAY = date(2026, 11, 19)


def terminate(admin, database: str, application: str) -> int:
    """Terminate every backend of ``application`` on ``database``; how many there were."""
    return admin.execute(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity"
        " where datname = %s and application_name = %s and pid <> pg_backend_pid()",
        (database, application),
    ).fetchone()[0]


@pytest.mark.integration
def test_backends_terminated_mid_run_are_retried_and_gold_is_a_clean_runs(
    warehouse: Warehouse, sales_api: str, liftoff_home: Path
) -> None:
    env = run_env(warehouse, sales_api, liftoff_home, retry_delay_seconds="1")
    run = subprocess.Popen(
        [LIFTOFF, "run", "--date", DAY.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    killed: list[tuple[str, int]] = []
    phases = [PIPELINE_APPLICATION_NAME, "dbt"]
    try:
        with warehouse.connect(autocommit=True, application_name="outage-test") as admin:
            deadline = time.monotonic() + 600
            while run.poll() is None and phases and time.monotonic() < deadline:
                if count := terminate(admin, warehouse.database, phases[0]):
                    killed.append((phases.pop(0), count))
                time.sleep(0.02)
        output, _ = run.communicate(timeout=900)
    finally:
        run.kill()
    assert [phase for phase, _ in killed] == [PIPELINE_APPLICATION_NAME, "dbt"], (
        f"both phases were hit: {killed}\n{output}"
    )
    assert run.returncode == 0, output
    log = (liftoff_home / "logs" / f"sales_elt-{DAY.isoformat()}.log").read_text()
    assert "up_for_retry" in log.lower(), "the failed tasks were retried, not failed"
    with warehouse.connect() as conn:
        assert_gold_matches(conn, expected_after(sales_api, [DAY]), [DAY])
