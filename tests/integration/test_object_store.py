"""The object-store contract, run against every backend: the local folder and a real MinIO."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from liftoff.archive.store import (
    LocalFolderStore,
    MinioStore,
    ObjectStore,
    StoreError,
    batch_prefix,
    check_key,
)


def test_put_get_size_exists(store: ObjectStore, tmp_path: Path) -> None:
    key = "raw/crm/sales/dt=2026-11-20/part-0000.jsonl.zst"
    assert not store.exists(key)
    store.put_bytes(key, b"abc")
    assert store.exists(key) and store.get_bytes(key) == b"abc" and store.size(key) == 3
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * 3_000_000)
    store.put_file("files/big.bin", source)
    store.get_file("files/big.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()


def test_replacing_an_object_keeps_one_visible_version(store: ObjectStore) -> None:
    store.put_bytes("a/b.txt", b"one")
    store.put_bytes("a/b.txt", b"two")
    assert store.get_bytes("a/b.txt") == b"two"
    assert list(store.list("a/")) == ["a/b.txt"]


def test_list_move_delete(store: ObjectStore) -> None:
    for key in ("inbox/products/P001/a.png", "inbox/products/P002/b.png", "other/c.txt"):
        store.put_bytes(key, key.encode())
    assert sorted(store.list("inbox/")) == ["inbox/products/P001/a.png", "inbox/products/P002/b.png"]
    store.move("inbox/products/P001/a.png", "files/products/P001/a.png")
    assert not store.exists("inbox/products/P001/a.png")
    assert store.get_bytes("files/products/P001/a.png") == b"inbox/products/P001/a.png"
    store.delete("other/c.txt")
    assert not store.exists("other/c.txt")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a//b", "a/./b", "a\\b", ""])
def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        store.put_bytes(key, b"x")
    with pytest.raises(ValueError, match="invalid object key"):
        check_key(key)


def test_a_failed_local_write_leaves_nothing_visible(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)

    def explode(handle) -> None:
        handle.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store._atomic_write("x/y.bin", explode)
    assert not store.exists("x/y.bin") and list(store.list("")) == []


def test_minio_bucket_is_created_with_versioning(minio_server) -> None:
    store = MinioStore.from_url(minio_server.url("versioned-bucket"))
    store.put_bytes("k", b"1")
    store.put_bytes("k", b"2")
    assert store.client.get_bucket_versioning("versioned-bucket").status == "Enabled"
    versions = list(store.client.list_objects("versioned-bucket", prefix="k", include_version=True))
    assert len(versions) == 2, "versioning keeps the replaced object"


def test_minio_unreachable_is_a_one_line_store_error() -> None:
    from sales_api.server import free_port

    store = MinioStore.from_url(f"http://k:s@127.0.0.1:{free_port()}/bucket", retries=1, backoff=0.01)
    with pytest.raises(StoreError, match="is unreachable") as info:
        store.put_bytes("k", b"1")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://k:s@h/bucket", "must be http"),
        ("http://h:9000/bucket", "must be http"),
        ("http://k:s@h:9000/", "must be http"),
        ("http://k:s@h:9000/b", "invalid bucket name 'b'"),
        ("http://k:s@h:9000/Upper_Case", "invalid bucket name"),
    ],
)
def test_bad_minio_url(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        MinioStore.from_url(url)


def test_batch_prefix_layout() -> None:
    assert batch_prefix("crm", "sales", date(2026, 11, 20)) == "raw/crm/sales/dt=2026-11-20/"
