"""Whether a service of the local runtime answers: its health route returns 200."""

from __future__ import annotations

import httpx


def answers(url: str, timeout: float) -> bool:
    """``url`` (a health route) answers 200 within ``timeout`` seconds."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False
