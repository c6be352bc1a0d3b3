"""The connector runner kept warm: ``cdk_runner.py`` with the Airbyte CDK imported, forking a
child per sync (``liftoff.ingest.warm_connector`` starts it in each executor worker).

The runner's own process spends 1.5-1.9 s importing the CDK before its first request (the CDK
imports all of itself); a sync forked from this server starts with it loaded. Like the runner,
this file runs in the connector's virtualenv and imports nothing from ``liftoff``.

    python connector_server.py SOCKET LIFELINE_FD

It listens on the Unix socket ``SOCKET`` (in a folder only its user can open) and exits when
``LIFELINE_FD`` reads end of file: every process that started it or forked from that one is
gone. A conversation, one per sync:

    server -> client   {"runner": STAMP, "python": ...}\\n   (the runner file it loaded, its interpreter)
    client -> server   {"env": {...}, "cwd": "..."}\\n   with three descriptors: stdin, stdout, stderr
    child  -> client   {"pid": N}\\n ... {"exit": CODE}\\n

A client whose runner file is not the one the server loaded (the code changed since the worker
started) hangs up after the first line and runs the runner cold. The child runs the runner's
``main()`` with the client's descriptors as its standard streams, so the caller reads what the
runner's own process would print; the client kills it by its pid when its time is up.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import sys

try:
    from liftoff.ingest import cdk_runner  # imported by the client for stamp()
except ImportError:  # run by the connector's own interpreter: this file's folder is on sys.path
    import cdk_runner


def stamp(path: str) -> str:
    """What names one version of a file: its path, modification time and size."""
    seen = os.stat(path)
    return f"{os.path.realpath(path)}:{seen.st_mtime_ns}:{seen.st_size}"


def serve_one(conn: socket.socket, listener: socket.socket, lifeline: int) -> None:
    """In the forked child: take the client's streams and environment, run the runner, report."""
    listener.close()
    os.close(lifeline)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
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
    cdk_runner.preload()
    hello = {"runner": stamp(cdk_runner.__file__), "python": sys.executable}
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    watch = selectors.DefaultSelector()
    watch.register(listener, selectors.EVENT_READ)
    watch.register(lifeline, selectors.EVENT_READ)
    try:
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
                    pass  # a client that hung up (a stale runner file) or could not be served
                finally:
                    conn.close()
    finally:
        listener.close()
        for remove, name in ((os.unlink, path), (os.rmdir, os.path.dirname(path))):
            with contextlib.suppress(OSError):  # the socket, then its private folder
                remove(name)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
