"""Finding the `liftoff airflow` of a home: none, gone, starting, up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liftoff.config import Settings, Unavailable
from liftoff.local.airflow_deployment import (
    admin_password,
    read_admin_password,
    running_deployment,
    write_state,
)
from sales_api.server import free_port


def test_no_deployment_or_a_dead_one_is_none_and_a_silent_one_is_unavailable(tmp_path) -> None:
    settings = Settings(home=tmp_path)
    assert running_deployment(settings) is None
    folder = tmp_path / "airflow"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder).mkdir()
    (folder / "deployment.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": dead.pid}))
    assert running_deployment(settings) is None, "a deployment whose process is gone is none"

    write_state(folder, f"http://127.0.0.1:{free_port()}", "starting")  # this process, not answering
    assert oct((folder / "deployment.json").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(Unavailable, match="is starting"):
        running_deployment(settings)


@pytest.mark.parametrize(("shift", "found"), [(1.0, True), (-1.0, True), (30.0, False)])
def test_a_deployment_is_found_though_the_boot_time_moved(tmp_path, shift: float, found: bool) -> None:
    folder = tmp_path / "airflow"
    folder.mkdir()
    path = write_state(folder, f"http://127.0.0.1:{free_port()}", "starting")  # this process
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "started": state["started"] + shift}))  # read with a stepped clock
    if found:
        with pytest.raises(Unavailable, match="is starting"):
            running_deployment(Settings(home=tmp_path))
    else:  # another process that took the pid long after
        assert running_deployment(Settings(home=tmp_path)) is None


def test_the_admin_password_is_made_once_kept_0600_and_only_read_by_other_commands(tmp_path) -> None:
    settings = Settings(home=tmp_path)
    first = admin_password(settings)
    path = tmp_path / "airflow" / "admin-password.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600" and len(first) >= 16
    assert admin_password(settings) == read_admin_password(settings) == first
    os.environ["LIFTOFF_AIRFLOW_ADMIN_PASSWORD"] = "chosen-by-the-team"
    try:
        chosen = Settings(home=tmp_path)
        assert read_admin_password(chosen) == first, "reading never writes"
        assert admin_password(chosen) == "chosen-by-the-team" == read_admin_password(chosen)
    finally:
        del os.environ["LIFTOFF_AIRFLOW_ADMIN_PASSWORD"]


PRELOADED = """
import json, multiprocessing, sys

def modules(names):
    return sorted(m for m in sys.modules if m in names or m.startswith("liftoff"))

if __name__ == "__main__":  # the forkserver imports this file too, as the scheduler's script: not this
    from celery import Celery
    from liftoff.dag_defaults import TASK_PRELOAD
    from liftoff.celery_config import CELERY_CONFIG

    before = [m for m in TASK_PRELOAD if m in sys.modules]
    app = Celery("airflow.providers.celery.executors.celery_executor", config_source=CELERY_CONFIG)
    app.loader.import_default_modules()  # what a Celery worker does before its pool forks
    celery = [m for m in TASK_PRELOAD if m in sys.modules]
    context = multiprocessing.get_context("forkserver")  # what the LocalExecutor's scheduler sets
    multiprocessing.set_forkserver_preload(list(TASK_PRELOAD))
    with context.Pool(1) as pool:
        local = pool.map(modules, [TASK_PRELOAD])[0]
    print(json.dumps({"before": before, "celery": celery, "broker": app.conf.broker_url, "local": local}))
"""


def test_the_executors_workers_import_what_every_task_imports_once(tmp_path) -> None:
    """Celery's workers (their ``imports``) and the LocalExecutor's forkserver preload the task
    runner, Cosmos and dbt; of our own code only the warm-ups of dbt and of the connector
    runner, which read nothing of the project (a task reads the project as it is)."""
    from liftoff.dag_defaults import TASK_PRELOAD

    script = tmp_path / "preloaded.py"
    script.write_text(PRELOADED)
    env = {
        **os.environ,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": "redis://x/0",
    }
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert "dbt.cli.main" not in seen["before"] and seen["celery"] == list(TASK_PRELOAD)
    assert seen["broker"] == "redis://x/0", "Airflow's own Celery settings are kept"
    # of ours only the warm-ups (and their packages' empty __init__), which read nothing of the project
    ours = sorted({*TASK_PRELOAD, "liftoff", "liftoff.transform", "liftoff.ingest"})
    assert seen["local"] == ours, "the forkserver's children have them, and no other liftoff module"


PARSED_AFTER_PRELOAD = """
import importlib, json, os, sys
from pathlib import Path
from liftoff.dag_defaults import TASK_PRELOAD

for name in TASK_PRELOAD:
    importlib.import_module(name)
from airflow.dag_processing.dagbag import BundleDagBag
from airflow.sdk.listener import get_listener_manager

dags, seen = Path(sys.argv[1]), {}
for path in sorted(dags.glob("*.py")):
    read, write = os.pipe()
    if (pid := os.fork()) == 0:  # a task process: forked from its worker, then parses its DAG file
        before = set(sys.modules)
        get_listener_manager()  # the task runner's first step: Airflow's plugins, ours and Cosmos'
        bag = BundleDagBag(
            dag_folder=str(path), safe_mode=False, load_op_links=False, bundle_path=str(dags),
            bundle_name="dags-folder",
        )
        new = sorted({m.split(".")[0] for m in set(sys.modules) - before})
        os.write(write, json.dumps({"dags": list(bag.dags), "new": new}).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        seen[path.name] = json.loads(pipe.read())
    os.waitpid(pid, 0)
print(json.dumps(seen))
"""


def test_a_task_starting_imports_only_our_code(tmp_path) -> None:
    """Each task, in a process forked from its worker, loads Airflow's plugins and parses its
    DAG file: what they import besides our own code (Cosmos' plugin and task groups, psycopg,
    pydantic-settings, …) is preloaded, so that costs about 0.1 s instead of 0.7 s."""
    script = tmp_path / "parsed.py"
    script.write_text(PARSED_AFTER_PRELOAD)
    dags = Path(__file__).resolve().parents[2] / "dags"
    done = subprocess.run(
        [sys.executable, str(script), str(dags)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert sorted(seen) == sorted(p.name for p in dags.glob("*.py"))
    assert seen["sales_elt.py"]["dags"] == ["sales_elt"]
    # our code, the DAG file's own module (Airflow's unusual_prefix_…), and Airflow's lazily
    # loaded parts (its providers' asset schemes)
    ours = {"liftoff", "airflow"}
    for name, parsed in seen.items():
        others = [m for m in parsed["new"] if m not in ours and not m.startswith("unusual_prefix_")]
        assert others == [], f"{name}: a task would import {others} itself; add them to TASK_PRELOAD"


def test_the_dbt_warm_up_parses_a_throwaway_project_and_never_stops_a_worker(monkeypatch, caplog) -> None:
    """What each worker runs once before its tasks fork: two `dbt parse`s that succeed, offline,
    in a temporary folder it removes; a dbt that fails there is logged, never raised."""
    import tempfile

    import dbt.cli.main
    from dbt.parser.manifest import ManifestLoader

    from liftoff.transform import warm_dbt

    read, loaded = ManifestLoader.read_manifest_for_partial_parse, []

    def reading(self):  # the real reader; whether each parse got a manifest from the file
        manifest = read(self)
        loaded.append(manifest is not None)
        return manifest

    monkeypatch.setattr(ManifestLoader, "read_manifest_for_partial_parse", reading)
    monkeypatch.setenv("DBT_PARTIAL_PARSE", "false")  # a worker's own setting does not turn it off
    left_before = set(Path(tempfile.gettempdir()).glob("liftoff-dbt-warm-up-*"))
    assert warm_dbt.warm_up() is True
    assert set(Path(tempfile.gettempdir()).glob("liftoff-dbt-warm-up-*")) == left_before, "nothing left"
    assert loaded == [False, True], "the second parse reads the first one's file, as a task's dbt call does"
    monkeypatch.undo()

    def broken(*args, **kwargs):
        raise RuntimeError("dbt is broken here")

    class Refusing:
        def invoke(self, args):
            return dbt.cli.main.dbtRunnerResult(success=False, exception=RuntimeError("refused"))

    for runner, said in (
        (broken, "dbt's warm-up failed"),
        (Refusing, "dbt's warm-up parse failed (refused)"),
    ):
        monkeypatch.setattr(dbt.cli.main, "dbtRunner", runner)
        caplog.clear()
        with caplog.at_level("WARNING"):
            assert warm_dbt.warm_up() is False
        assert said in caplog.text and "dbt tasks start cold" in caplog.text


def test_a_finished_task_frees_its_worker_soon_unless_the_environment_says_otherwise(tmp_path) -> None:
    """``liftoff airflow``'s components get TASK_TIMING; a value in the environment wins."""
    from liftoff.local.airflow_deployment import TASK_TIMING, deployment_env
    from liftoff.warehouse.location import Warehouse

    metadata = Warehouse("127.0.0.1", 5432, "airflow", "airflow", "x")
    env = deployment_env({}, metadata, tmp_path, 8080, passwords=tmp_path / "passwords.json")
    assert {key: env[key] for key in TASK_TIMING} == TASK_TIMING
    assert TASK_TIMING["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"] == "1", "not the 5 s default"
    own = {"AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "3"}
    env = deployment_env(own, metadata, tmp_path, 8080, passwords=tmp_path / "passwords.json")
    assert env["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"] == "3"
