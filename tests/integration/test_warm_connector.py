"""The connector runner kept warm (``liftoff.ingest.warm_connector``): a sync forked from the
worker's server lands what a cold runner lands, a stale server is passed by, a sync over its
time is killed, and the server goes when whoever started it goes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psutil
import pytest

from liftoff.batch import Interval
from liftoff.config import Settings, get_settings, load_sources
from liftoff.ingest import warm_connector
from liftoff.ingest.local import IngestError, sync_interval
from liftoff.ingest.protocol import connector_env
from liftoff.warehouse.location import Warehouse

INTERVAL = Interval.for_day(date(2026, 11, 20))
# what a sync lands, less what differs by run (ids, the extraction's time)
LANDED = "select {columns} from raw_crm.{stream} order by 1"
KEPT = {"sales": "sale_id, _record::text, _airbyte_meta::text", "sellers": "_record::text"}


def wait_for(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still not so after {seconds}s: {check.__doc__}"
        time.sleep(0.05)


def children_of(pid: int) -> set[int]:
    """The live children of ``pid`` (a zombie has exited: only its parent has yet to reap it)."""
    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return set()
    return {child.pid for child in children if alive(child.pid)}


def no_child(server: int):
    def check() -> bool:
        """the sync's child is gone (exited, or killed)"""
        return not children_of(server)

    return check


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def server_pid(path: str) -> int:
    for process in psutil.process_iter(["pid", "cmdline"]):
        if path in (process.info["cmdline"] or []):
            return process.info["pid"]
    raise AssertionError(f"no server process for {path}")


SECRET = "s3cr3t-of-the-worker"


@pytest.fixture
def warm(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The warm server, as a worker starts it (with a secret in its environment), listening."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", f"postgresql://owner:{SECRET}@db:5432/warehouse")
    path = warm_connector.start()
    assert path, "the server did not start"

    def listening() -> bool:
        """the server listens"""
        return Path(path).exists()

    wait_for(listening)
    yield path
    warm_connector.stop()

    def gone() -> bool:
        """the server exits once its starter let go"""
        return not Path(path).exists()

    wait_for(gone, 10)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How each sync ran: "warm" (a child of the server) or "cold" (the runner's own process)."""
    how: list[str] = []
    run = warm_connector.run

    def spy(*args, **kwargs):
        try:
            done = run(*args, **kwargs)
        except subprocess.TimeoutExpired:
            how.append("warm")
            raise
        how.append("cold" if done is None else "warm")
        return done

    monkeypatch.setattr(warm_connector, "run", spy)
    return how


@pytest.fixture
def crm_env(sales_api: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LIFTOFF_API_URL", sales_api)
    return load_sources()["crm"]


def landed(warehouse: Warehouse) -> dict[str, list[tuple]]:
    with warehouse.connect() as conn:
        return {
            stream: conn.execute(LANDED.format(columns=columns, stream=stream)).fetchall()
            for stream, columns in KEPT.items()
        }


def test_a_warm_sync_lands_what_a_cold_one_lands(
    warm: str, served: list[str], crm_env, database_factory, liftoff_home: Path, monkeypatch
) -> None:
    from liftoff.warehouse.bootstrap import bootstrap

    results = {}
    for how in ("cold", "warm"):
        target = database_factory()
        with target.connect() as conn:
            bootstrap(conn)
        if how == "cold":
            monkeypatch.delenv(warm_connector.ADDRESS)
        else:
            monkeypatch.setenv(warm_connector.ADDRESS, warm)
        counts = sync_interval("crm", crm_env, INTERVAL, target, Settings(home=liftoff_home))
        results[how] = counts, landed(target)
        wait_for(no_child(server_pid(warm)), 10)
    assert served == ["cold", "warm"]
    assert results["warm"] == results["cold"] and results["cold"][0]["sales"] > 0


def test_a_server_with_another_runner_file_is_passed_by(
    warm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner changed since the worker started its server: the sync starts cold."""
    edited = tmp_path / "cdk_runner.py"
    edited.write_text(warm_connector.RUNNER.read_text() + "\n# edited\n")
    monkeypatch.setattr(warm_connector, "RUNNER", edited)
    python = get_settings().airbyte_python
    assert warm_connector.run(python, "{}", connector_env(), 30) is None
    assert warm_connector.run(Path(sys.executable), "{}", connector_env(), 30) is None, "another interpreter"
    monkeypatch.undo()
    assert warm_connector.run(python, "{}", connector_env(), 30).returncode == 1, "the same: it runs"


def test_a_sync_over_its_time_is_killed(
    warm: str, served: list[str], database_factory, crm_env, liftoff_home: Path, monkeypatch
) -> None:
    """An API that accepts and never answers: the task's timeout ends the sync's child too."""
    silent = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setenv("LIFTOFF_API_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
    target = database_factory()
    from liftoff.warehouse.bootstrap import bootstrap

    with target.connect() as conn:
        bootstrap(conn)
    server = server_pid(warm)
    with silent, pytest.raises(IngestError, match="timed out after 3s"):
        sync_interval("crm", crm_env, INTERVAL, target, Settings(home=liftoff_home), timeout_seconds=3)

    assert served == ["warm"]
    wait_for(no_child(server), 10)


def test_the_server_has_none_of_the_workers_secrets(warm: str) -> None:
    environ = (Path("/proc") / str(server_pid(warm)) / "environ").read_bytes()
    assert b"AIRFLOW_CONN" not in environ and SECRET.encode() not in environ
    assert Path(warm).parent.stat().st_mode & 0o777 == 0o700, "only the worker's user reaches the socket"


def test_a_sync_whose_task_is_gone_ends(warm: str) -> None:
    """A task killed outright (SIGKILL: no code of its own runs) closes its end of the socket;
    the sync's child, here stuck reading a request that never ends, exits with it."""
    server = server_pid(warm)
    stdin, writer = os.pipe()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(warm)
    lines = conn.makefile("rb")
    assert b"version" in lines.readline()
    header = json.dumps({"env": connector_env(), "cwd": os.getcwd()}).encode() + b"\n"
    socket.send_fds(conn, [header], [stdin, 1, 2])
    assert b"pid" in lines.readline()
    assert children_of(server), "the child reads its request"
    lines.close()
    conn.close()  # what the kernel does for a killed task
    wait_for(no_child(server), 10)
    os.close(stdin)
    os.close(writer)


def test_the_server_goes_with_the_process_that_started_it() -> None:
    """A worker killed outright leaves no server behind (nor its socket)."""
    worker = subprocess.Popen(
        [sys.executable, "-c", "import os, time; from liftoff.ingest import connector_warm_up;"
         f" print(os.environ[{warm_connector.ADDRESS!r}], flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        path = worker.stdout.readline().strip()
        wait_for(lambda: Path(path).exists())
        server = server_pid(path)
    finally:
        worker.kill()
        worker.wait()

    def gone() -> bool:
        """the server exited and removed its socket"""
        return not Path(path).exists() and not alive(server)

    wait_for(gone, 10)
    assert os.environ.get(warm_connector.ADDRESS) is None, "starting it elsewhere set nothing here"
