"""`liftoff airflow` started as a user starts it, for the tests of the Airflow UI and API.

Its own home on the embedded default (its warehouse, its demo APIs, its metadata database
``airflow``), on free ports, with short retry delays. Stopped with Ctrl-C (SIGINT), as a
user stops it; then none of its processes may be left.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from liftoff.local.airflow_api import AirflowApi
from liftoff.local.airflow_deployment import Login, api_answers
from liftoff.local.ports import port_is_free
from sales_api.server import free_port

LIFTOFF = str(Path(sys.executable).with_name("liftoff"))
# What a configured deployment would bring: the tests' own services are not this one's.
NOT_INHERITED = ("LIFTOFF_WAREHOUSE_URL", "AIRFLOW_CONN_WAREHOUSE", "LIFTOFF_ARCHIVE_URL", "LIFTOFF_HOME")


@dataclass
class Deployment:
    home: Path
    env: dict[str, str]
    login: Login
    process: subprocess.Popen
    log: Path

    def api(self) -> AirflowApi:
        return AirflowApi(self.login)

    def liftoff(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """A `liftoff` command on the deployment's home, as a second terminal would run it."""
        return subprocess.run([LIFTOFF, *args], env=self.env, capture_output=True, text=True, timeout=timeout)


def free_port_pair() -> int:
    """A port free with the next one (the home broker's controller listens there), below the
    kernel's range for outgoing connections where it has room: none takes either while Java
    starts (the kernel hands out odd ports to bind(0) and even ones to connect(), so
    ``free_port() + 1`` could be taken)."""
    first_outgoing = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    below = range(20000, first_outgoing - 1)
    candidates = random.sample(below, min(500, len(below))) if len(below) > 0 else []
    for port in itertools.chain(candidates, (free_port() for _ in range(500))):
        if port_is_free(port) and port_is_free(port + 1):
            return port
    raise RuntimeError("no two free consecutive ports")


def start_deployment(home: Path, **settings: str) -> Deployment:
    """`liftoff airflow` on ``home``; ``settings``: more environment (LIFTOFF_* settings)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env.update(
        LIFTOFF_HOME=str(home),
        LIFTOFF_EMBEDDED_PG_PORT=str(free_port()),
        LIFTOFF_API_URL=f"http://127.0.0.1:{free_port()}",
        LIFTOFF_AIRFLOW_PORT=str(port),
        LIFTOFF_RETRY_DELAY_SECONDS="2",
        LIFTOFF_SKIP_SOURCES="",  # the point-of-sale stream too: the home's broker, as on a laptop
        LIFTOFF_KAFKA_PORT=str(free_port_pair()),
        LIFTOFF_ANALYST_PASSWORD=secrets.token_urlsafe(12),  # the tests read gold as analysts do
        COLUMNS="200",
    )
    env.update(settings)
    log = home / "liftoff-airflow.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen([LIFTOFF, "airflow"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: "login:" in log.read_text(errors="replace"), process, deadline=300)
        password = json.loads((home / "airflow" / "admin-password.json").read_text())["admin"]
        # A busy machine can take seconds to answer: a wait with a deadline, not one try.
        wait_until(lambda: api_answers(url, timeout=10), process, deadline=120)
    except BaseException as exc:  # whatever failed after the start: nothing it started is left
        interrupt(process)
        printed = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"liftoff airflow did not come up ({exc}):\n{printed}") from exc
    return Deployment(home, env, Login(url, "admin", password), process, log)


def wait_until(ready, process: subprocess.Popen, deadline: float) -> None:
    """Until ``ready()``; a ``process`` that exits, or ``deadline`` seconds passing, raise."""
    end = time.monotonic() + deadline
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"liftoff airflow exited with {process.returncode}")
        if time.monotonic() > end:
            raise TimeoutError(f"not ready in {deadline:.0f} s")
        time.sleep(1)


def interrupt(process: subprocess.Popen) -> list[str]:
    """Ctrl-C ``process`` (its own cleanup stops what it started); then kill what it left.
    The processes that were still alive a while after Ctrl-C (should be none)."""
    family = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
    process.send_signal(signal.SIGINT)
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
    time.sleep(2)
    left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    names = [" ".join(p.cmdline()[:3]) for p in left]
    for child in left:
        child.kill()
    return names


def stop_deployment(deployment: Deployment) -> list[str]:
    """Ctrl-C; the processes of the deployment still alive a minute later (should be none)."""
    names = interrupt(deployment.process)
    if not port_is_free(int(deployment.env["LIFTOFF_EMBEDDED_PG_PORT"])):
        names.append("the embedded PostgreSQL")
    api = deployment.env["LIFTOFF_API_URL"].rsplit(":", 1)[1]
    if not port_is_free(int(api)):
        names.append("the demo APIs")
    return names
