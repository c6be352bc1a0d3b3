"""A real browser for the web pages' tests: Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from liftoff.config import PROJECT_ROOT
from liftoff.entry.launch import streamlit_command
from sales_api.server import free_port

CHROMIUM = Path(os.environ.get("LIFTOFF_TEST_CHROMIUM", "/usr/bin/chromium"))
# Closed network: no background connections, no first-run or update checks.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots and other artefacts of the browser tests, kept after the run.
ARTEFACTS = Path(os.environ.get("LIFTOFF_TEST_ARTEFACTS", PROJECT_ROOT / ".liftoff" / "test-artefacts"))


@contextmanager
def start_streamlit(env: dict[str, str], folder: Path) -> Iterator[str]:
    """The entry app on a free port with ``env``, its log in ``folder``: yields its URL once healthy.

    The process is terminated on the way out, whether or not it came up.
    """
    port = free_port()
    log_path = folder / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(streamlit_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            process.wait(20)


def shown(page: Page, text: str, log: Path, timeout_ms: int = 90_000) -> None:
    """Wait for ``text`` on ``page``, long enough for a save on a busy machine; if it never
    shows, fail with what the page shows instead and the end of the app's log (``log``)."""
    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_ms)
    except PlaywrightTimeout:
        body = page.locator("body").inner_text(timeout=5_000)
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else f"(no {log})"
        raise AssertionError(
            f"{text!r} not shown within {timeout_ms / 1000:.0f} s; the page shows:\n{body[-2000:]}\n"
            f"the app's log ends:\n{tail}"
        ) from None
