"""An outage of the warehouse mid-run is retried by Airflow, and gold ends as a clean run's;
and nothing the run leaves behind holds a secret it was given.

Every backend of the pipeline is terminated twice while a day runs: first the tasks'
own connections (`liftoff-pipeline`: ingest, validation, archive), then dbt's (`dbt`),
as a PostgreSQL restart would. Each failed task is retried with Airflow's backoff, and the
run succeeds with gold equal to the independent computation. The run has an API key, a
shop token and a pipeline password; no log or file under its home contains any of them.
"""

from __future__ import annotations

import subprocess
import time
from datetime import date
from pathlib import Path

import pytest

from liftoff.local.airflow_runner import PIPELINE_APPLICATION_NAME
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


SECRETS = {
    "LIFTOFF_API_KEY": "crm-key-7f3e9a1c5b",
    "LIFTOFF_SHOP_TOKEN": "shop-token-2d8b6e4f0a",
    "LIFTOFF_PIPELINE_PASSWORD": "pipeline-pw-9c1a7e3d5f",
}


def files_holding(folder: Path, secrets: dict[str, str]) -> dict[str, list[str]]:
    """Which files under ``folder`` hold which secret (as bytes: logs, SQLite, archives)."""
    found: dict[str, list[str]] = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for name, value in secrets.items():
                if value.encode() in data:
                    found.setdefault(name, []).append(str(path.relative_to(folder)))
    return found


def test_backends_terminated_mid_run_are_retried_and_gold_is_a_clean_runs(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    api = api_server_factory(api_key=SECRETS["LIFTOFF_API_KEY"], shop_token=SECRETS["LIFTOFF_SHOP_TOKEN"])
    sales_api = api.url
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
    assert files_holding(liftoff_home, SECRETS) == {}, "a secret was written down"
    assert not any(value in output for value in SECRETS.values()), "a secret was printed"
