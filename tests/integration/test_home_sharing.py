"""Commands of one home share it safely: runs take turns, the embedded server outlives no user
and dies under none."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sales_api.server import free_port

HOLD_RUN_LOCK = """
import sys
from pathlib import Path
from liftoff.local.services import run_lock
with run_lock(Path(sys.argv[1]), lambda line: print(line, flush=True)):
    print("holding", flush=True)
    sys.stdin.readline()  # until told to let go
print("released", flush=True)
"""

USE_WAREHOUSE = """
import sys, time
from liftoff.config import get_settings
from liftoff.local.services import running_warehouse
with running_warehouse(get_settings()) as target:
    with target.connect() as conn:
        conn.execute("select 1")
    print("up", flush=True)
    sys.stdin.readline()  # until told to go
    with target.connect() as conn:
        conn.execute("select 1")
print("done", flush=True)
"""


def start(code: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_second_run_waits_for_the_first_and_names_it(tmp_path: Path) -> None:
    first = start(HOLD_RUN_LOCK, str(tmp_path))
    assert first.stdout.readline().strip() == "holding"
    second = start(HOLD_RUN_LOCK, str(tmp_path))
    announced = second.stdout.readline().strip()
    assert "is busy with `liftoff" in announced and f"pid {first.pid}" in announced
    first.stdin.write("go\n")
    first.stdin.flush()
    assert second.stdout.readline().strip() == "holding"  # only after the first let go
    assert "released" in first.communicate(timeout=30)[0] and first.returncode == 0
    second.communicate("go\n", timeout=30)
    assert second.returncode == 0


def test_the_embedded_server_stops_with_its_last_user_only(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "LIFTOFF_WAREHOUSE_URL"}
    env.pop("AIRFLOW_CONN_WAREHOUSE", None)
    env |= {"LIFTOFF_HOME": str(tmp_path / "home"), "LIFTOFF_EMBEDDED_PG_PORT": str(free_port())}
    first = start(USE_WAREHOUSE, env=env)
    assert first.stdout.readline().strip() == "up", first.stderr.read()
    second = start(USE_WAREHOUSE, env=env)
    assert second.stdout.readline().strip() == "up", second.stderr.read()
    first.communicate("go\n", timeout=60)
    assert first.returncode == 0, "the first user left"
    out, err = second.communicate("go\n", timeout=60)
    assert second.returncode == 0 and out.strip() == "done", f"the server stayed up for the second: {err}"
    from liftoff.local.postgres import EmbeddedPostgres

    deadline = time.monotonic() + 10
    embedded = EmbeddedPostgres(tmp_path / "home" / "warehouse")
    while embedded.is_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not embedded.is_running(), "the last user out stopped it"
