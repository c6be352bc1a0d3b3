"""The local runtime's children never outlive the command that started them (a SIGKILLed
`liftoff airflow` left its scheduler, API server and workers running), and a deployment.json
left by a killed one never names an unrelated process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

PARENT = """
import subprocess, sys, time
from liftoff.local.children import terminate_with_parent
child = subprocess.Popen(["sleep", "300"], start_new_session=True, preexec_fn=terminate_with_parent)
print(child.pid, flush=True)
time.sleep(300)
"""


def test_a_child_dies_when_its_parent_is_killed_with_sigkill() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    assert child.is_running()
    parent.send_signal(signal.SIGKILL)
    parent.wait(30)
    try:
        child.wait(30)  # it would sleep 300 s if nothing ended it
    except psutil.TimeoutExpired:
        child.kill()
        raise AssertionError("the child outlived its SIGKILLed parent") from None


def test_a_stale_deployment_file_whose_pid_was_reused_is_no_deployment(tmp_path: Path) -> None:
    from liftoff.config import Settings
    from liftoff.local.airflow_deployment import deployment_dir, running_deployment, write_state

    settings = Settings(home=tmp_path)
    folder = deployment_dir(settings)
    folder.mkdir(parents=True)
    path = write_state(folder, "http://127.0.0.1:9", "up")
    state = json.loads(path.read_text())
    assert state["pid"] == os.getpid()
    # what a killed deployment leaves, once another process has its pid: this one, here
    state["started"] = psutil.Process().create_time() - 3600
    path.write_text(json.dumps(state))
    assert running_deployment(settings) is None and not path.exists()


def test_the_wait_for_a_service_says_why_it_stopped() -> None:
    from liftoff.local.health import wait_until

    answers = iter([False, False, True])
    assert wait_until(lambda: next(answers), timeout=5, every=0.01) is None, "it answered"
    exits = iter([None, "scheduler"])
    assert wait_until(lambda: False, timeout=5, every=0.01, gone=lambda: next(exits)) == "scheduler"
    assert wait_until(lambda: False, timeout=0.05, every=0.01) == "timeout"
