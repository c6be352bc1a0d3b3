"""Files only their owner reads: the embedded services' passwords and logins."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600) from its first byte."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


def reachable_by_others(folder: Path) -> bool:
    """Whether every parent of ``folder`` lets other users through (o+x)."""
    return all(parent.stat().st_mode & 0o001 for parent in folder.resolve().parents if parent.exists())
