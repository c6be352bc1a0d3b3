"""Object stores for the raw archive: one interface, the same keys in every backend."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    """What the archive needs from an object store."""

    def put_file(self, key: str, path: Path) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def size(self, key: str) -> int: ...
    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the store's root (absolute paths, '..', empty parts)."""
    parts = key.split("/")
    if not key or any(part in {"", ".", ".."} for part in parts) or "\\" in key:
        raise ValueError(f"invalid object key {key!r}")
    return key


def batch_prefix(source: str, stream: str, day: date) -> str:
    """``raw/<source>/<stream>/dt=<day>/``: deterministic, so a rerun replaces the object."""
    return f"raw/{source}/{stream}/dt={day.isoformat()}/"


class LocalFolderStore:
    """A folder with the object keys as relative paths; writes are atomic (temp + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _atomic_write(self, key: str, write) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path) -> None:
        def copy(handle) -> None:
            with path.open("rb") as source:
                while chunk := source.read(1 << 20):
                    handle.write(chunk)

        self._atomic_write(key, copy)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._atomic_write(key, lambda handle: handle.write(data))

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()
