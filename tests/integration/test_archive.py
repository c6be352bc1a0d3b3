"""Archiving and restoring a landed batch, on every object-store backend."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from liftoff.archive.archiver import ArchiveError, SmallerThanArchived, archive_batch
from liftoff.archive.formats import JSONL_GZIP, JSONL_ZSTD, format_of_key, read_lines
from liftoff.archive.restore import restore_day
from liftoff.archive.store import MinioStore, ObjectStore, StoreError
from liftoff.batch import Batch, Interval
from liftoff.config import get_settings
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

DAY = date(2026, 11, 20)
BATCH = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))


def landed_rows(conn) -> list[tuple]:
    return conn.execute("select * from raw_crm.sales order by _airbyte_raw_id").fetchall()


def restore_batch(
    conn, warehouse: Warehouse, store: ObjectStore, day: date, *, owner: str = "pipeline"
) -> int:
    """``liftoff archive restore``'s restore into a landing table that is the pipeline's (a
    local sync's) or, with ``owner="owner"``, the owner's (a pushed source's, an Airbyte
    server destination's)."""
    pipeline = get_settings().pipeline_role
    if conn.execute("select to_regclass('raw_crm.sales')").fetchone()[0] is not None:
        new_owner = f'"{pipeline}"' if owner == "pipeline" else "current_user"
        conn.execute(f"alter table raw_crm.sales owner to {new_owner}")
        conn.commit()
    return restore_day(conn, warehouse, store, "crm", "sales", day, landing_owner=pipeline)


def archived_rows(store: ObjectStore, key: str, tmp_path: Path) -> list[dict]:
    store.get_file(key, tmp_path / "part")
    return [json.loads(line) for line in read_lines(format_of_key(key), tmp_path / "part")]


@pytest.mark.parametrize("fmt", [JSONL_ZSTD, JSONL_GZIP])
def test_archive_holds_every_landed_row_and_marks_the_batch(
    warehouse: Warehouse, store: ObjectStore, tmp_path: Path, fmt
) -> None:
    rows = sales_for_day(DAY, dirty_fraction=0.3).sales
    with warehouse.connect() as conn:
        land_sales(conn, rows)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        archived = archive_batch(conn, BATCH, store, run_id="test-run", fmt=fmt)
        assert archived.key == f"raw/crm/sales/dt=2026-11-20/part-0000.{fmt.extension}"
        back = archived_rows(store, archived.key, tmp_path)
        assert sorted(r["sale_id"] for r in back) == sorted(r["sale_id"] for r in rows)
        assert all("_airbyte_raw_id" in r for r in back)
        manifest = json.loads(store.get_bytes(archived.manifest_key))
        assert manifest["rows"] == len(rows) and manifest["sha256"] == archived.sha256
        assert (manifest["run_id"], manifest["contract"], manifest["contract_version"]) == (
            "test-run",
            "Sale",
            "1.1.0",
        )
        status, key = conn.execute("select status, archive_key from audit.batches").fetchone()
        assert (status, key) == ("archived", archived.key)


def test_rerun_replaces_the_object_and_drops_a_part_in_another_format(
    warehouse: Warehouse, store: ObjectStore
) -> None:
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        first = archive_batch(conn, BATCH, store, fmt=JSONL_GZIP)
        again = archive_batch(conn, BATCH, store, fmt=JSONL_GZIP)
        assert first.sha256 == again.sha256, "the same rows give the same bytes"
        zstd = archive_batch(conn, BATCH, store, fmt=JSONL_ZSTD)
    assert sorted(store.list("raw/crm/sales/dt=2026-11-20/")) == sorted([zstd.key, zstd.manifest_key])


def test_a_rerun_with_fewer_rows_keeps_the_archive_unless_told(
    warehouse: Warehouse, store: ObjectStore
) -> None:
    """A batch whose records never leave their day (a stream's, an app's) that lost rows (a
    stream past its retention) never shrinks the system of record silently: refused in one
    line, replaced only with the explicit flag. A synced day may shrink by right."""
    kept = Batch("crm", "sales", "updated_at", Interval.for_day(DAY), records_gated=True)
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, kept, Sale, max_reject_ratio=0.0)
        whole = archive_batch(conn, kept, store)
        conn.execute("delete from raw_crm.sales where sale_id in (select sale_id from raw_crm.sales limit 3)")
        validate_batch(conn, kept, Sale, max_reject_ratio=0.0)
        with pytest.raises(SmallerThanArchived) as refused:
            archive_batch(conn, kept, store)
        assert "\n" not in str(refused.value) and "--replace-smaller-archive" in str(refused.value)
        assert json.loads(store.get_bytes(whole.manifest_key))["rows"] == whole.rows, "the archive kept"
        smaller = archive_batch(conn, kept, store, replace_smaller=True)
        assert smaller.rows == whole.rows - 3

        conn.execute("delete from raw_crm.sales where sale_id in (select sale_id from raw_crm.sales limit 2)")
        validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        assert archive_batch(conn, BATCH, store).rows == whole.rows - 5, "a synced day's records may move"


def test_restore_brings_back_exactly_the_landed_rows(warehouse: Warehouse, store: ObjectStore) -> None:
    other_day = sales_for_day(date(2026, 11, 21)).sales
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY, dirty_fraction=0.3).sales + other_day)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        archive_batch(conn, BATCH, store)
        before = landed_rows(conn)
        BATCH.delete_landed(conn)
        conn.commit()
        assert restore_batch(conn, warehouse, store, DAY) == len(before) - len(other_day)
        assert landed_rows(conn) == before, "restored rows equal the landed ones, Airbyte columns included"
        restore_batch(conn, warehouse, store, DAY)
        assert landed_rows(conn) == before, "restoring twice changes nothing"
        restore_batch(conn, warehouse, store, DAY, owner="owner")  # a server destination's table
        assert landed_rows(conn) == before, "the owner's own table is restored in its session"


def test_restore_into_a_lost_warehouse_recreates_landing(warehouse: Warehouse, store: ObjectStore) -> None:
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        archive_batch(conn, BATCH, store)
        count = len(landed_rows(conn))
        conn.execute("drop schema raw_crm cascade")
        conn.commit()
        assert restore_batch(conn, warehouse, store, DAY) == count
        assert BATCH.count(conn) == count


def test_restore_refuses_a_corrupted_object(warehouse: Warehouse, store: ObjectStore) -> None:
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        archived = archive_batch(conn, BATCH, store)
        store.put_bytes(archived.key, b"not what was archived")
        with pytest.raises(ArchiveError, match="does not match its manifest"):
            restore_batch(conn, warehouse, store, DAY)
        assert BATCH.count(conn) == len(sales_for_day(DAY).sales), "landing untouched"
        with pytest.raises(ArchiveError, match=r"no archive for crm\.sales on 2026-11-19"):
            restore_batch(conn, warehouse, store, date(2026, 11, 19))


def test_minio_stopped_mid_archive_fails_cleanly_then_recovers(
    warehouse: Warehouse, minio_server, tmp_path: Path
) -> None:
    """MinIO dies while the task uploads: retried, then a clear error; nothing partial; rerun works."""
    from tests.minio_server import MinioServer

    server = MinioServer(minio_server.binary, tmp_path / "minio-data").start()
    store = MinioStore.from_url(server.url("fault-bucket"), retries=3, backoff=0.05)
    store.ensure_bucket()
    real_put = store.put_file

    def put_while_minio_dies(key: str, path: Path) -> None:
        server.stop()
        real_put(key, path)

    store.put_file = put_while_minio_dies
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        try:
            with pytest.raises(StoreError, match="is unreachable") as info:
                archive_batch(conn, BATCH, store)
            assert "\n" not in str(info.value)
            assert conn.execute("select status from audit.batches").fetchone()[0] == "validated"
            server.start()
            store.put_file = real_put
            assert list(store.list("raw/")) == [], "nothing partial is visible"
            archived = archive_batch(conn, BATCH, store)
            assert store.exists(archived.key)
            assert conn.execute("select status from audit.batches").fetchone()[0] == "archived"
        finally:
            server.stop()
