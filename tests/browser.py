"""A real browser for the web pages' tests: Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

from liftoff.config import PROJECT_ROOT

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
