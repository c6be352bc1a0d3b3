"""A living Airflow deployment of the embedded default (``liftoff airflow``, ``make airflow``).

The api-server, scheduler, dag-processor and triggerer run as separate processes, the way
a team runs them, with LocalExecutor and the metadata in a PostgreSQL database ``airflow``
(owned by a role of its own, never the warehouse's owner). The login is ``admin`` with
``LIFTOFF_AIRFLOW_ADMIN_PASSWORD``, else a password generated on the first start and kept
under ``LIFTOFF_HOME`` (0600). While it runs, ``deployment.json`` in its folder says where
it answers: ``liftoff run`` and ``liftoff backfill`` then go through its scheduler.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from psycopg import sql
from pydantic import SecretStr

from liftoff.config import ConfigError, Settings, Unavailable
from liftoff.dag_defaults import TASK_PRELOAD
from liftoff.local.children import airflow_binary, terminate_with_parent
from liftoff.local.files import write_private
from liftoff.local.health import answers, wait_until
from liftoff.local.ports import free_port
from liftoff.warehouse.location import Warehouse
from liftoff.warehouse.roles import ensure_role

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
METADATA_DATABASE = "airflow"
METADATA_ROLE = "airflow"
# Celery's settings: Airflow's, with these as `imports` (a worker imports them before its pool forks).
CELERY_CONFIG_OPTIONS = "liftoff.celery_config.CELERY_CONFIG"


@dataclass(frozen=True)
class Login:
    """Where a running deployment answers, and who to log in as."""

    url: str
    user: str
    password: str


def deployment_dir(settings: Settings) -> Path:
    return settings.home / "airflow"


def passwords_file(settings: Settings) -> Path:
    """The login's one file: the simple auth manager's passwords (``{"admin": ...}``), 0600."""
    return deployment_dir(settings) / "admin-password.json"


def admin_password(settings: Settings) -> str:
    """``LIFTOFF_AIRFLOW_ADMIN_PASSWORD``, else the one kept in the home (made on first use).
    Written to the passwords file the API server reads: call it when the deployment starts."""
    path = passwords_file(settings)
    if settings.airflow_admin_password is not None:
        password = settings.airflow_admin_password.get_secret_value()
    elif path.exists():
        return read_admin_password(settings)
    else:
        password = secrets.token_urlsafe(16)
    write_private(path, json.dumps({ADMIN_USER: password}) + "\n")
    return password


def read_admin_password(settings: Settings) -> str:
    """The running deployment's admin password, as its passwords file has it (never written)."""
    return json.loads(passwords_file(settings).read_text())[ADMIN_USER]


def metadata_database(owner: psycopg.Connection, target: Warehouse, settings: Settings) -> Warehouse:
    """The database ``airflow`` on the warehouse's server, owned by the role ``airflow``.

    The role's password is made on the first start and kept in the home (0600); the role
    owns the metadata and nothing else.
    """
    path = settings.home / "airflow-metadata-password"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24))
    password = SecretStr(path.read_text().strip())
    owner.autocommit = True
    ensure_role(owner, METADATA_ROLE, password, connection_limit=80)
    if owner.execute("select 1 from pg_database where datname = %s", (METADATA_DATABASE,)).fetchone() is None:
        owner.execute(
            sql.SQL("create database {} owner {}").format(
                sql.Identifier(METADATA_DATABASE), sql.Identifier(METADATA_ROLE)
            )
        )
    return Warehouse(target.host, target.port, METADATA_DATABASE, METADATA_ROLE, password.get_secret_value())


# How soon a task's end frees its worker and starts the next task. A task's supervisor notices
# its process's exit at its next look, and it looks every `min_heartbeat_interval` (5 s by
# default) once the task has closed its sockets: a finished task held its worker slot 5 s
# longer about every other time. The scheduler, when a loop found nothing to do, sleeps
# `scheduler_idle_sleep_time` (1 s) before it sees that a task ended and queues the next.
# The price: each running task's supervisor sends a heartbeat every second (a request to the
# API server, a row updated), and an idle scheduler loops four times a second.
TASK_TIMING = {
    "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.25",
}


def deployment_env(
    base: dict[str, str],
    metadata: Warehouse,
    folder: Path,
    port: int,
    *,
    passwords: Path,
    paused_at_creation: bool = False,
    celery_broker: str | None = None,
) -> dict[str, str]:
    """Airflow's settings for the components: ``base`` (the tasks' environment) and the rest.

    LocalExecutor (the scheduler runs the tasks), or with ``celery_broker`` (a Redis URL)
    CeleryExecutor: the tasks go to ``airflow celery worker`` processes, their results to
    the metadata database, as a team's scale-out runs them.
    """
    jwt_secret = folder / "jwt-secret"
    if not jwt_secret.exists():  # kept: tokens stay valid across a restart of the API server
        write_private(jwt_secret, secrets.token_hex(32))
    celery = (
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": celery_broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata.url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",  # per worker; add workers to scale out
            "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": CELERY_CONFIG_OPTIONS,
        }
        if celery_broker
        else {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",  # workers from a server that preloads
            "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(
                ("airflow.executors.local_executor", *TASK_PRELOAD)  # + the worker's own loop
            ),
        }
    )
    return {
        **TASK_TIMING,  # unless the environment sets its own
        **base,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.url.replace(
            "postgresql://", "postgresql+psycopg2://"
        ),
        **celery,
        "AIRFLOW__CORE__PARALLELISM": "4",  # two cores: four tasks at once
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(paused_at_creation),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret.read_text().strip(),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(folder / "logs"),
    }


class AirflowProcesses:
    """The four components as processes, and ``workers`` Celery workers by these hostnames
    (CeleryExecutor); ``stop`` leaves none of them (or their children)."""

    def __init__(self, env: dict[str, str], log_dir: Path, port: int, workers: tuple[str, ...] = ()) -> None:
        self.env, self.log_dir, self.port, self.workers = env, log_dir, port, workers
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [airflow_binary(), *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            log = self.log_dir / f"airflow-{args[0]}.log"
            log.write_text(done.stdout + done.stderr)
            raise ConfigError(f"airflow {' '.join(args)} failed; see {log}")
        return done

    def start(self, timeout: float = 180) -> None:
        """Migrate the metadata database, start the components, wait for the API server."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate", timeout=600)
        commands = {component: ([component], {}) for component in COMPONENTS}
        for worker in self.workers:  # each serves its tasks' logs on a port of its own
            port = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
            commands[worker] = (["celery", "worker", "--celery-hostname", f"{worker}@%h"], port)
        for name, (args, extra) in commands.items():
            with (self.log_dir / f"{name}.log").open("ab") as log:
                self.processes[name] = subprocess.Popen(
                    [airflow_binary(), *args],
                    env={**self.env, **extra},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopped with its children
                    preexec_fn=terminate_with_parent,  # a SIGKILLed `liftoff airflow` leaves none
                )
        try:
            self.wait(self.api_is_up, timeout, "the Airflow API server did not start")
        except BaseException:  # a component that died, a timeout, Ctrl-C: none is left running
            self.stop()
            raise

    def exited(self) -> str | None:
        """The first component that has exited, if one has."""
        return next((name for name, p in self.processes.items() if p.poll() is not None), None)

    def wait(self, ready: Callable[[], bool], timeout: float, message: str) -> None:
        stopped = wait_until(ready, timeout=timeout, every=1, gone=self.exited)
        if stopped == "timeout":
            raise Unavailable(f"{message} in {timeout:.0f} s; see {self.log_dir}")
        if stopped is not None:
            raise ConfigError(f"airflow {stopped} exited; see {self.log_dir / (stopped + '.log')}")

    def api_is_up(self) -> bool:
        return api_answers(self.url, timeout=10)  # a busy machine answers late

    def stop(self, grace: float = 30) -> None:
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            _signal_group(process, signal.SIGKILL)  # what is left of the group: task runners
            process.wait()


def api_answers(url: str, timeout: float) -> bool:
    """Whether the Airflow API server at ``url`` answers its health check."""
    return answers(f"{url}/api/v2/monitor/health", timeout)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def write_state(folder: Path, login_url: str, state: str) -> Path:
    """``deployment.json``: where the deployment answers, its process (its pid and when it
    started: a pid alone may be another process's by now), and ``starting`` or ``up``."""
    path = folder / "deployment.json"
    started = psutil.Process().create_time()
    write_private(
        path, json.dumps({"url": login_url, "pid": os.getpid(), "started": started, "state": state})
    )
    return path


# A process's start time is the boot time plus its ticks since boot, and the boot time the
# kernel reports moves when the wall clock is stepped (NTP, a VM's clock): read by another
# process a little later, the same start can differ by a second.
START_SLACK_SECONDS = 2.0


def _still_running(state: dict) -> bool:
    """Whether the process ``deployment.json`` names is the one that wrote it."""
    try:
        process = psutil.Process(int(state["pid"]))
        return abs(process.create_time() - float(state["started"])) < START_SLACK_SECONDS
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def running_deployment(settings: Settings) -> Login | None:
    """The login of the deployment running on this home; None if none runs.

    One that runs but does not answer (starting, or stuck) is :class:`Unavailable`: a
    command must not run days beside it on its own.
    """
    path = deployment_dir(settings) / "deployment.json"
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not _still_running(state):
        path.unlink(missing_ok=True)  # left by a deployment that was killed: its pid may be reused
        return None
    if not api_answers(state["url"], timeout=10):
        what = "is starting" if state.get("state") == "starting" else "does not answer"
        raise Unavailable(
            f"Airflow on this home (pid {state['pid']}, {state['url']}) {what}: wait for it, or stop it"
        )
    return Login(state["url"], ADMIN_USER, read_admin_password(settings))
