"""Whether a service of the local runtime answers (its health route returns 200), and the one
loop that waits for a started service to answer."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx


def answers(url: str, timeout: float) -> bool:
    """``url`` (a health route) answers 200 within ``timeout`` seconds."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(
    ready: Callable[[], bool], *, timeout: float, every: float, gone: Callable[[], str | None] = lambda: None
) -> str | None:
    """Ask ``ready`` every ``every`` seconds until it says yes (None), a child it waits for is
    ``gone`` (what ``gone`` says: which one exited), or ``timeout`` seconds have passed
    (``"timeout"``). The caller says what it waited for, and where its log is."""
    deadline = time.monotonic() + timeout
    while not ready():
        if (exited := gone()) is not None:
            return exited
        if time.monotonic() > deadline:
            return "timeout"
        time.sleep(every)
    return None
