"""Bad configuration gives one clear line and exit code 2, never a stack trace."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from liftoff.warehouse.location import Warehouse
from sales_api.server import free_port

LIFTOFF = str(Path(sys.executable).with_name("liftoff"))


def liftoff(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LIFTOFF_", "AIRFLOW_CONN_"))}
    return subprocess.run(
        [LIFTOFF, *args], env={**environment, **env}, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], done.stderr


def test_unreachable_warehouse(tmp_path: Path) -> None:
    url = f"postgresql://postgres:x@127.0.0.1:{free_port()}/liftoff"
    done = liftoff("run", "--date", "2026-11-20", LIFTOFF_WAREHOUSE_URL=url, LIFTOFF_HOME=str(tmp_path))
    assert_one_line_error(done, "is not reachable")


def test_api_port_taken_by_something_else(warehouse: Warehouse, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = liftoff(
            "run",
            "--date",
            "2026-11-20",
            LIFTOFF_WAREHOUSE_URL=warehouse.url,
            LIFTOFF_API_URL=f"http://127.0.0.1:{port}",
            LIFTOFF_HOME=str(tmp_path),
        )
    assert_one_line_error(done, f"port {port} is taken")


def test_embedded_warehouse_port_taken(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = liftoff(
            "run", "--date", "2026-11-20", LIFTOFF_EMBEDDED_PG_PORT=str(port), LIFTOFF_HOME=str(tmp_path)
        )
    assert_one_line_error(done, f"port {port} is taken")


def test_remote_api_down(warehouse: Warehouse, tmp_path: Path) -> None:
    done = liftoff(
        "run",
        "--date",
        "2026-11-20",
        LIFTOFF_WAREHOUSE_URL=warehouse.url,
        LIFTOFF_API_URL="http://crm.invalid:8080",
        LIFTOFF_HOME=str(tmp_path),
    )
    assert_one_line_error(done, "does not answer")


def test_bad_date_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:  # were the warehouse started first, this would be the error
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = liftoff(
            "run", "--date", "20-11-2026", LIFTOFF_EMBEDDED_PG_PORT=str(port), LIFTOFF_HOME=str(tmp_path)
        )
    assert done.returncode == 2
    assert "expected YYYY-MM-DD" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "warehouse").exists()


def test_a_day_that_has_not_ended_is_refused_before_anything_starts(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    done = liftoff("run", "--date", today.isoformat(), LIFTOFF_HOME=str(tmp_path))
    assert_one_line_error(done, f"{today} has not ended yet (UTC)")
    assert "--partial-day" in done.stderr
    later = today + timedelta(days=90)  # not even with --partial-day: nothing has happened yet
    done = liftoff("run", "--date", later.isoformat(), "--partial-day", LIFTOFF_HOME=str(tmp_path))
    assert_one_line_error(done, f"{later} has not started yet (UTC)")
    assert not (tmp_path / "warehouse").exists()


def test_quarantine_list_on_a_fresh_home_says_there_is_nothing_yet(warehouse: Warehouse, tmp_path) -> None:
    done = liftoff("quarantine", "list", LIFTOFF_WAREHOUSE_URL=warehouse.url, LIFTOFF_HOME=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "no rejected rows yet" in done.stdout and "Traceback" not in done.stderr


def test_liftoff_sql_reads_and_refuses_to_write(warehouse: Warehouse, tmp_path) -> None:
    env = {"LIFTOFF_WAREHOUSE_URL": warehouse.url, "LIFTOFF_HOME": str(tmp_path)}
    done = liftoff("sql", "select count(*) as batches from audit.batches", **env)
    assert done.returncode == 0, done.stderr
    assert "batches" in done.stdout and "1 row(s)" in done.stdout
    refused = liftoff("sql", "delete from audit.batches", **env)
    assert_one_line_error(refused, "read-only transaction")
