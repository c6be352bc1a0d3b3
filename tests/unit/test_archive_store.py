"""The local-folder object store: atomic writes, safe keys, the archive key layout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from liftoff.archive.store import LocalFolderStore, batch_prefix, check_key


def test_put_get_size_exists(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    store.put_bytes("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.gz", b"abc")
    assert store.exists("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.gz")
    assert store.get_bytes("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.gz") == b"abc"
    assert store.size("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.gz") == 3


def test_replacing_an_object_leaves_no_temp_files(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    store.put_bytes("a/b.txt", b"one")
    store.put_bytes("a/b.txt", b"two")
    assert store.get_bytes("a/b.txt") == b"two"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.txt"]


def test_a_failed_write_leaves_nothing_visible(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)

    def explode(handle) -> None:
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store._atomic_write("x/y.bin", explode)
    assert not store.exists("x/y.bin")
    assert list((tmp_path / "x").iterdir()) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a//b", "a/./b", "a\\b", ""])
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        check_key(key)


def test_batch_prefix_layout() -> None:
    assert batch_prefix("crm", "sales", date(2026, 11, 20)) == "raw/crm/sales/dt=2026-11-20/"
