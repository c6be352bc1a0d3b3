"""Local services for the embedded default: the warehouse, the demo API and the Kafka broker."""

from __future__ import annotations

import fcntl
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from liftoff.config import ConfigError, Settings, Unavailable, redacted_url, streamed_sources
from liftoff.local.children import terminate_with_parent
from liftoff.local.health import answers, wait_until
from liftoff.local.ports import port_is_free
from liftoff.local.postgres import EmbeddedPostgres
from liftoff.warehouse.location import Warehouse, configured_warehouse_url


@contextmanager
def running_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The configured warehouse if there is one, else the embedded one.

    The embedded server is shared by every command of the home (a run, the app, a
    quarantine listing): each registers as a user while it needs it, and the last one out
    stops it, never one whose server another command still uses.
    """
    url = configured_warehouse_url()
    if url:
        target = Warehouse.from_url(url)
        with target.connect():  # fail now, in one line, if it is not reachable
            pass
        yield target
        return
    embedded = EmbeddedPostgres(settings.home / "warehouse", port=settings.embedded_pg_port)
    users = settings.home / "warehouse-users"
    with _home_lock(settings.home, "warehouse"):
        target = embedded.start()
        users.mkdir(parents=True, exist_ok=True, mode=0o700)
        mine = users / str(os.getpid())
        mine.touch()
    try:
        yield target
    finally:
        with _home_lock(settings.home, "warehouse"):
            mine.unlink(missing_ok=True)
            if not _live_users(users):
                embedded.stop()


def _live_users(users: Path) -> list[int]:
    """The processes registered as users of the embedded server that still run."""
    alive = []
    for entry in users.glob("*"):
        try:
            os.kill(int(entry.name), 0)
            alive.append(int(entry.name))
        except (ValueError, ProcessLookupError):
            entry.unlink(missing_ok=True)  # a user that died without signing out
        except PermissionError:
            alive.append(int(entry.name))
    return alive


@contextmanager
def _home_lock(home: Path, name: str) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / f".{name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def run_lock(home: Path, announce) -> Iterator[None]:
    """One run at a time per home (one Airflow metadata database, one log folder).

    A second run waits for the first, after saying which run holds the home (``announce``
    gets that line).
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".run.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another liftoff command"
            announce(f"{home} is busy with {holder}: waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        command = " ".join(["liftoff", *sys.argv[1:]])
        handle.write(f"`{command}` (pid {os.getpid()}, since {time.strftime('%H:%M:%S')})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def api_is_up(api_url: str) -> bool:
    """Whether the demo APIs at ``api_url`` answer their health check."""
    return answers(f"{api_url.rstrip('/')}/health", timeout=2)


@contextmanager
def demo_api(
    settings: Settings, *, dirty_fraction: float | None = None, log_path: Path | None = None
) -> Iterator[str]:
    """The demo APIs at ``settings.api_url``: reused if they answer, else started (and stopped).

    Started here (``python -m sales_api``), the demo shop wants ``LIFTOFF_SHOP_TOKEN`` if set,
    else a fresh random token, set in ``LIFTOFF_SHOP_TOKEN`` for the runs. A demo API that
    runs already keeps its own token: give it in ``LIFTOFF_SHOP_TOKEN``.
    """
    url = settings.api_url.rstrip("/")
    if api_is_up(url):
        yield url
        return
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in {"127.0.0.1", "localhost"}:
        raise Unavailable(f"the sales API at {redacted_url(url)} does not answer (LIFTOFF_API_URL)")
    if not port_is_free(port, host):
        raise ConfigError(
            f"port {port} is taken by something that is not the demo API: free it or set "
            "LIFTOFF_API_URL to another port"
        )
    command = [sys.executable, "-m", "sales_api", "--host", host, "--port", str(port)]
    if dirty_fraction is not None:
        command += ["--dirty-fraction", str(dirty_fraction)]
    token = os.environ.setdefault("LIFTOFF_SHOP_TOKEN", secrets.token_urlsafe(18))
    log_path = log_path or settings.home / "logs" / "sales_api.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LIFTOFF_API_SHOP_TOKEN": token},
            preexec_fn=terminate_with_parent,  # never outlives the command that started it
        )
    try:
        gone = lambda: None if process.poll() is None else "exited"  # noqa: E731 (read as a name)
        if wait_until(lambda: api_is_up(url), timeout=30, every=0.2, gone=gone) is not None:
            raise ConfigError(f"the demo API did not start on {url}; see {log_path}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def running_kafka(settings: Settings, announce) -> Iterator[str | None]:
    """The bootstrap servers of the stream sources' Kafka, for the length of a command.

    The configured one (``LIFTOFF_KAFKA_BOOTSTRAP_SERVERS``) as it is; else the home's embedded
    broker: reused if it answers on ``LIFTOFF_KAFKA_PORT`` (``liftoff kafka`` serves it),
    else started here and stopped at the end. None when no source streams, or when the
    broker cannot start here: then ``announce`` gets one line saying which sources are
    skipped and why.
    """
    from liftoff.local.kafka import missing_reason
    from liftoff.stream.topics import create_topic, source_topics

    sources = streamed_sources(settings)
    streamed = sorted(sources)
    if not streamed:
        yield None
        return
    if settings.kafka_bootstrap_servers:
        yield settings.kafka_bootstrap_servers
        return
    if (servers := embedded_kafka(settings)) is not None:
        yield servers
        return
    broker = home_broker(settings)
    if (reason := missing_reason()) is not None:
        announce(f"{', '.join(streamed)} skipped: {reason}")
        yield None
        return
    broker.start()
    try:
        for topic in source_topics(sources):
            create_topic(broker.bootstrap_servers, topic)
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def home_broker(settings: Settings):
    """The home's embedded Kafka broker (not started): its log under the home, its ports."""
    from liftoff.local.kafka import EmbeddedKafka

    return EmbeddedKafka(
        settings.home / "kafka", port=settings.kafka_port, controller_port=settings.kafka_port + 1
    )


def embedded_kafka(settings: Settings) -> str | None:
    """The home's embedded broker's bootstrap servers if it runs (``liftoff kafka``, ``liftoff airflow``)."""
    from liftoff.local.kafka import broker_answers

    servers = home_broker(settings).bootstrap_servers
    return servers if broker_answers(servers) else None
