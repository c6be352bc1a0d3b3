"""The connector runner kept warm where the executor's workers fork from, used by their tasks.

A sync's runner (``cdk_runner.py``, in the CDK's virtualenv) spent 1.5-1.9 s importing the
Airbyte CDK before its first request, every sync. :func:`start` (the workers' preload,
``liftoff.ingest.connector_warm_up``: once in the LocalExecutor's forkserver, whose four
workers share it, or in each Celery worker) starts ``connector_server.py``: the runner with
the CDK imported, forking a child per sync. :func:`run` is what a task calls: the request
goes to a child of that server, which reads and prints exactly what the runner's own process
would. Whenever the server cannot take it (not started, still importing, gone, or started
before the runner or server file changed) :func:`run` returns None and the caller starts the
runner cold, as it always did.

The server gets the connector's environment (``connector_env``: the machine's, none of the
worker's secrets) and each sync the task's own, with its request on stdin as before. Its
socket is in a folder only the worker's user can open; it exits when the process that started
it and every process forked from that one are gone (a pipe only they hold), and a sync's
child exits when its task's end of the socket closes (the task done, timed out or killed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from liftoff.config import get_settings
from liftoff.ingest.connector_server import stamp
from liftoff.ingest.protocol import connector_env

log = logging.getLogger(__name__)

SERVER = Path(__file__).with_name("connector_server.py")
RUNNER = Path(__file__).with_name("cdk_runner.py")
ADDRESS = "LIFTOFF_CONNECTOR_SERVER"  # the socket's path, in the environment the tasks inherit
_lifeline: int | None = None  # the pipe's end the worker (and its forks) hold open


def start() -> str | None:
    """Start the warm server with the settings' CDK interpreter; its socket's path, also in
    ``os.environ[ADDRESS]`` for the processes forked from this one. Never raises: without it,
    syncs start cold."""
    global _lifeline
    try:
        python = Path(os.path.abspath(get_settings().airbyte_python))  # as its sys.executable says
        if not python.exists():
            log.info("no connector interpreter at %s: syncs start cold", python)
            return None
        path = str(Path(tempfile.mkdtemp(prefix="liftoff-connector-")) / "server.sock")
        readable, _lifeline = os.pipe()
        try:
            subprocess.Popen(
                [str(python), str(SERVER), path, str(readable)],
                pass_fds=(readable,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=connector_env(),
                start_new_session=True,  # a signal to the worker's group is not for it
            )
        finally:
            os.close(readable)
        os.environ[ADDRESS] = path
        return path
    except Exception:
        log.warning("the warm connector server did not start: syncs start cold", exc_info=True)
        return None


def stop() -> None:
    """Let go of the server started here: it exits once every process forked from this one
    since has let go too; syncs from here on start cold."""
    global _lifeline
    os.environ.pop(ADDRESS, None)
    if _lifeline is not None:
        os.close(_lifeline)
        _lifeline = None


def run(
    python: Path, request: str, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess | None:
    """Run the runner on ``request`` in a child of the warm server: what ``subprocess.run`` of
    the runner would return, or None when the server cannot take it (start it cold then).
    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds, the child killed."""
    path = os.environ.get(ADDRESS)
    if not path:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(5)
        conn.connect(path)
        lines = conn.makefile("rb")
        hello = json.loads(lines.readline() or b"{}")
    except (OSError, ValueError):  # not listening yet (importing the CDK), or gone
        log.info("the warm connector server is not answering (starting, or gone): this sync starts cold")
        conn.close()
        return None
    if hello.get("python") != os.path.abspath(python) or hello.get("version") != stamp(
        str(RUNNER), str(SERVER)
    ):
        log.warning(
            "the warm connector server was started with another runner or interpreter (restart the"
            " workers to use the new one): this sync starts cold"
        )
        conn.close()
        return None
    with conn, lines:
        return _converse(conn, lines, request, env, timeout)


def _converse(
    conn: socket.socket, lines, request: str, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess | None:
    stdin, stdin_w = os.pipe()
    stdout_r, stdout = os.pipe()
    stderr_r, stderr = os.pipe()
    try:
        header = json.dumps({"env": env, "cwd": os.getcwd()}).encode() + b"\n"
        socket.send_fds(conn, [header], [stdin, stdout, stderr])
    except OSError:  # the server went between its hello and now: start the runner cold
        for fd in (stdin_w, stdout_r, stderr_r):
            os.close(fd)
        return None
    finally:
        for fd in (stdin, stdout, stderr):
            os.close(fd)
    said: dict[int, bytes] = {}

    def drain(fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            said[fd] = stream.read()

    def feed() -> None:
        # a child gone early (its exit says why) closes the pipe: nothing more to write
        with contextlib.suppress(BrokenPipeError), os.fdopen(stdin_w, "wb") as stream:
            stream.write(request.encode())

    threads = [threading.Thread(target=drain, args=(fd,), daemon=True) for fd in (stdout_r, stderr_r)]
    threads.append(threading.Thread(target=feed, daemon=True))
    for thread in threads:
        thread.start()
    pid = code = None
    try:
        conn.settimeout(timeout)
        pid = json.loads(lines.readline())["pid"]
        code = json.loads(lines.readline())["exit"]
    except TimeoutError as exc:  # leaving closes our end of the socket: the child exits
        raise subprocess.TimeoutExpired(str(RUNNER), timeout) from exc
    except (OSError, ValueError, KeyError):
        pass  # the child ended before it could say how
    for thread in threads:  # its streams close when it exits
        thread.join(10)
    if pid is None:  # no child ran the request: start the runner cold
        log.warning("the warm connector server took the sync but ran nothing: it starts cold")
        return None
    log.info("the connector runner ran warm: child %s of the workers' server, exit %s", pid, code)
    return subprocess.CompletedProcess(
        [str(RUNNER)],
        -1 if code is None else code,
        said.get(stdout_r, b"").decode(errors="replace"),
        said.get(stderr_r, b"").decode(errors="replace"),
    )
