"""The catalog of unstructured files, on every object-store backend."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from liftoff.archive.catalog import catalog_inbox, key_problem, sniff
from liftoff.archive.store import LocalFolderStore, ObjectStore, StoreError
from liftoff.warehouse.location import Warehouse

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"x" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

DROPS = {
    "inbox/products/P001/front.png": PNG,  # accepted
    "inbox/sellers/V01/contract.pdf": PDF,  # accepted
    "inbox/suppliers/ACME-1/catalogue.pdf": PDF,  # accepted
    "inbox/products/P002/empty.png": b"",  # refused: empty
    "inbox/products/P003/photo.png": PDF,  # refused: bytes do not match the extension
    "inbox/products/P004/photo.jpg": b"MZ\x90\x00 executable",  # refused: not an allowed type
    "inbox/products/P005/invoice.pdf.exe": PDF,  # refused: two extensions
    "inbox/products/P006/.hidden.png": PNG,  # refused: hidden file
    "inbox/products/P007/sub/deep.png": PNG,  # refused: not inbox/<kind>/<id>/<name>
    "inbox/customers/C1/x.png": PNG,  # refused: unknown kind
    "inbox/products/P008/evil\u202egnp.pdf": PDF,  # refused: right-to-left override in the name
}


def rows(conn) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "select inbox_key, key, status, reason, kind, entity_id, size, content_type, sha256"
            " from catalog.objects"
        )
    }


def test_catalog_accepts_moves_and_refuses_with_reasons(bootstrapped: Warehouse, store: ObjectStore) -> None:
    warehouse = bootstrapped
    for key, data in DROPS.items():
        store.put_bytes(key, data)
    with warehouse.connect() as conn:
        entries = catalog_inbox(conn, store)
        catalog = rows(conn)
    assert len(entries) == len(DROPS) == len(catalog), "every file is recorded, none dropped"
    accepted = {k for k, v in catalog.items() if v[1] == "accepted"}
    assert accepted == {
        "inbox/products/P001/front.png",
        "inbox/sellers/V01/contract.pdf",
        "inbox/suppliers/ACME-1/catalogue.pdf",
    }
    key, _, _, kind, entity, size, content_type, sha = catalog["inbox/products/P001/front.png"]
    assert (key, kind, entity, size, content_type) == (
        "files/products/P001/front.png",
        "product",
        "P001",
        len(PNG),
        "image/png",
    )
    assert store.get_bytes("files/products/P001/front.png") == PNG and len(sha) == 64
    reasons = {k: v[2] for k, v in catalog.items() if v[1] == "refused"}
    assert reasons["inbox/products/P002/empty.png"] == "empty file"
    assert reasons["inbox/products/P003/photo.png"] == "extension .png but the bytes are application/pdf"
    assert "not an allowed type" in reasons["inbox/products/P004/photo.jpg"]
    assert "exactly one extension" in reasons["inbox/products/P005/invoice.pdf.exe"]
    assert "hidden" in reasons["inbox/products/P006/.hidden.png"]
    assert "inbox/<kind>/<entity id>/<file name>" in reasons["inbox/products/P007/sub/deep.png"]
    assert "unknown kind" in reasons["inbox/customers/C1/x.png"]
    assert "control characters" in reasons["inbox/products/P008/evil\u202egnp.pdf"]
    for key in reasons:
        assert store.exists(key), f"refused {key} must stay where it was"


def test_cataloging_again_is_idempotent(bootstrapped: Warehouse, store: ObjectStore) -> None:
    warehouse = bootstrapped
    store.put_bytes("inbox/products/P001/front.png", PNG)
    store.put_bytes("inbox/products/P002/empty.png", b"")
    with warehouse.connect() as conn:
        catalog_inbox(conn, store)
        first = rows(conn)
        second_entries = catalog_inbox(conn, store)
        assert [e.inbox_key for e in second_entries] == ["inbox/products/P002/empty.png"]
        assert rows(conn) == first


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (JPEG, "image/jpeg"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"<html>", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize(
    "key",
    [
        "inbox/products/../../etc/passwd",
        "inbox/products/P1/a\\b.png",
        "inbox/products/P1/\x00.png",
        "inbox/products/P 1/a.png",
    ],
)
def test_path_tricks_are_refused_before_reading(key: str) -> None:
    assert key_problem(key) is not None


def test_a_file_dropped_again_under_its_name_replaces_nothing(
    bootstrapped: Warehouse, store: ObjectStore
) -> None:
    other_png = PNG + b"another picture"
    with bootstrapped.connect() as conn:
        store.put_bytes("inbox/products/P001/front.png", PNG)
        catalog_inbox(conn, store)
        store.put_bytes("inbox/products/P001/front.png", other_png)  # a new picture, same name
        [second] = catalog_inbox(conn, store)
        store.put_bytes("inbox/products/P001/front.png", PNG)  # the first picture again
        [third] = catalog_inbox(conn, store)
        keys = dict(
            conn.execute("select key, sha256 from catalog.objects where status = 'accepted'").fetchall()
        )
    version = f"files/products/P001/front.{hashlib.sha256(other_png).hexdigest()[:12]}.png"
    assert second.key == version and third.key == "files/products/P001/front.png"
    assert store.get_bytes("files/products/P001/front.png") == PNG, "the first file is still there"
    assert store.get_bytes(version) == other_png
    assert keys == {
        "files/products/P001/front.png": hashlib.sha256(PNG).hexdigest(),
        version: hashlib.sha256(other_png).hexdigest(),
    }
    assert list(store.list("inbox/")) == []


def test_links_out_of_the_inbox_are_never_followed(bootstrapped: Warehouse, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PNG + b"not yours")
    store = LocalFolderStore(tmp_path / "archive")
    inbox = tmp_path / "archive" / "inbox" / "products"
    (inbox / "P001").mkdir(parents=True)
    (inbox / "P001" / "link.png").symlink_to(outside / "secret.png")
    (inbox / "P002").symlink_to(outside, target_is_directory=True)
    with bootstrapped.connect() as conn:
        assert catalog_inbox(conn, store) == []
        assert conn.execute("select count(*) from catalog.objects").fetchone()[0] == 0
    assert (outside / "secret.png").read_bytes() == PNG + b"not yours", "never moved in"
    with pytest.raises(StoreError, match="symbolic link"):
        store.get_bytes("inbox/products/P001/link.png")


def test_a_large_file_is_hashed_as_a_stream(bootstrapped: Warehouse, tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "archive")
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.write(PDF)
        for _ in range(64):
            handle.write(b"x" * (1 << 20))
    store.put_file("inbox/suppliers/ACME-1/catalogue.pdf", big)
    with bootstrapped.connect() as conn:
        tracemalloc.start()
        [entry] = catalog_inbox(conn, store)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert entry.status == "accepted" and entry.size == big.stat().st_size
    assert peak < 8 * (1 << 20), f"peak {peak:,} bytes for a 64 MiB file"
