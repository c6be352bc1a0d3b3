"""The connector runner kept warm: ``cdk_runner.py`` with the Airbyte CDK imported, forking a
child per sync (``liftoff.ingest.warm_connector`` starts it where the executor's workers fork
from: the LocalExecutor's forkserver, each Celery worker).

The runner's own process spends 1.5-1.9 s importing the CDK before its first request (the CDK
imports all of itself); a sync forked from this server starts with it loaded. Like the runner,
this file runs in the connector's virtualenv and imports nothing from ``liftoff``.

    python connector_server.py SOCKET LIFELINE_FD

It listens on the Unix socket ``SOCKET`` (in a folder only its user can open) and exits when
``LIFELINE_FD`` reads end of file: every process that started it or forked from that one is
gone. A conversation, one per sync:

    server -> client   {"version": STAMP, "python": ...}\\n   (the files it loaded, its interpreter)
    client -> server   {"env": {...}, "cwd": "..."}\\n   with three descriptors: stdin, stdout, stderr
    child  -> client   {"pid": N}\\n ... {"exit": CODE}\\n

A client whose runner or server file is not the one the server loaded (the code changed since
the worker started) hangs up after the first line and runs the runner cold. The child runs
the runner's ``main()`` with the client's descriptors as its standard streams, so the caller
reads what the runner's own process would print. The client never writes after its request:
when its end of the socket closes (the task done, timed out or killed) the child exits, so
no sync outlives the task that asked for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import sys
import threading

try:
    from liftoff.ingest import cdk_runner  # imported by the client for stamp()
except ImportError:  # run by the connector's own interpreter: this file's folder is on sys.path
    import cdk_runner


def stamp(*paths: str) -> str:
    """What names one version of these files: each one's path, modification time and size."""
    seen = [(os.path.realpath(path), os.stat(path)) for path in paths]
    return "|".join(f"{real}:{found.st_mtime_ns}:{found.st_size}" for real, found in seen)


def hang_up_ends_it(conn: socket.socket) -> None:
    """The client says nothing after its request: when its end closes (its task finished,
    timed out, or was killed) the sync it asked for ends too, wherever it is."""
    try:
        conn.recv(1)
    finally:
        os._exit(1)


def serve_one(conn: socket.socket, listener: socket.socket, lifeline: int) -> None:
    """In the forked child: take the client's streams and environment, run the runner, report."""
    code = 1
    try:
        listener.close()
        os.close(lifeline)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        message, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
        if len(fds) != 3:
            raise ValueError(f"expected 3 descriptors, got {len(fds)}")
        header = json.loads(message)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(header["env"])
        os.chdir(header["cwd"])
        threading.Thread(target=hang_up_ends_it, args=(conn,), daemon=True).start()
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        code = cdk_runner.main()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        try:
            conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        finally:
            # the CDK's reader threads may still wait on their queue (see the runner's __main__)
            os._exit(code)


def serve(path: str, lifeline: int) -> None:
    """Accept syncs until the lifeline closes; each one in a child forked from here."""
    try:
        cdk_runner.preload()
        hello = {"version": stamp(cdk_runner.__file__, __file__), "python": sys.executable}
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(16)
        watch = selectors.DefaultSelector()
        watch.register(listener, selectors.EVENT_READ)
        watch.register(lifeline, selectors.EVENT_READ)
        while True:
            for key, _ in watch.select():
                if key.fileobj == lifeline:
                    return  # end of file: whoever started this server is gone
                conn, _ = listener.accept()
                try:
                    conn.sendall(json.dumps(hello).encode() + b"\n")
                    if os.fork() == 0:
                        serve_one(conn, listener, lifeline)
                except OSError:
                    pass  # a client that hung up (another version) or could not be served
                finally:
                    conn.close()
    finally:
        for remove, name in ((os.unlink, path), (os.rmdir, os.path.dirname(path))):
            with contextlib.suppress(OSError):  # the socket, then its private folder
                remove(name)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
