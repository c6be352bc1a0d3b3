"""Serve the demo API from a thread of the current process (tests, benchmarks)."""

from __future__ import annotations

import threading
import time

import httpx
import uvicorn

from liftoff.local.ports import free_port
from sales_api.app import SalesApiSettings, create_app


class BackgroundApi:
    """The demo API (or another ASGI ``app``) on a free loopback port, for a ``with`` block."""

    def __init__(
        self, settings: SalesApiSettings | None = None, *, app=None, health_path: str = "/health"
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key = settings.api_key if settings else None
        self.headers = {"X-API-Key": key} if key else {}
        self.health_path = health_path
        config = uvicorn.Config(
            app or create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> BackgroundApi:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}{self.health_path}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"the API did not start on {self.url}")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def inject_faults(self, status: int, count: int) -> None:
        httpx.post(
            f"{self.url}/_faults", json={"status": status, "count": count}, headers=self.headers
        ).raise_for_status()

    def paginate(self, mode: str) -> None:
        """Page the data routes as ``mode``: ``endless``, ``repeat_cursor`` or ``none`` (a real API)."""
        httpx.post(f"{self.url}/_pagination", json={"mode": mode}, headers=self.headers).raise_for_status()

    def refuse_days(self, days: list, status: int = 503) -> None:
        """Data requests touching ``days`` fail with ``status`` until called with no days."""
        httpx.post(
            f"{self.url}/_outage",
            json={"days": [str(day) for day in days], "status": status},
            headers=self.headers,
        ).raise_for_status()
