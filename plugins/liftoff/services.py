"""Local services for the embedded default: the warehouse and the demo API."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from liftoff.config import ConfigError, Settings
from liftoff.warehouse.embedded import EmbeddedPostgres, port_is_free
from liftoff.warehouse.location import Warehouse, configured_warehouse_url


@contextmanager
def running_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The configured warehouse if there is one, else the embedded one (stopped on exit)."""
    url = configured_warehouse_url()
    if url:
        target = Warehouse.from_url(url)
        with target.connect():  # fail now, in one line, if it is not reachable
            pass
        yield target
        return
    embedded = EmbeddedPostgres(settings.home / "warehouse", port=settings.embedded_pg_port)
    was_running = embedded.is_running()
    target = embedded.start()
    try:
        yield target
    finally:
        if not was_running:
            embedded.stop()


def api_is_up(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


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
        raise ConfigError(f"the sales API at {url} does not answer (LIFTOFF_API_URL)")
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
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "LIFTOFF_API_SHOP_TOKEN": token}
        )
    try:
        deadline = time.monotonic() + 30
        while not api_is_up(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ConfigError(f"the demo API did not start on {url}; see {log_path}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
