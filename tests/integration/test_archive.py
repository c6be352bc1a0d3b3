"""Archiving a landed batch: exact rows, deterministic keys, checked read-back."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

from liftoff.archive.archiver import archive_batch
from liftoff.archive.store import LocalFolderStore
from liftoff.batch import Batch, Interval
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.target import WarehouseTarget
from liftoff_contracts import Sale
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

DAY = date(2026, 11, 20)
BATCH = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))


def test_archive_holds_every_landed_row_and_marks_the_batch(
    warehouse: WarehouseTarget, tmp_path: Path
) -> None:
    rows = sales_for_day(DAY, dirty_fraction=0.3).sales
    store = LocalFolderStore(tmp_path)
    with warehouse.connect() as conn:
        land_sales(conn, rows)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        archived = archive_batch(conn, BATCH, store, run_id="test-run")
        assert archived.key == "raw/crm/sales/dt=2026-11-20/part-0000.jsonl.gz"
        lines = gzip.decompress(store.get_bytes(archived.key)).decode().splitlines()
        archived_rows = [json.loads(line) for line in lines]
        assert sorted(r["sale_id"] for r in archived_rows) == sorted(r["sale_id"] for r in rows)
        assert all("_airbyte_raw_id" in r for r in archived_rows)
        manifest = json.loads(store.get_bytes(archived.manifest_key))
        assert manifest["rows"] == len(rows) and manifest["sha256"] == archived.sha256
        assert manifest["run_id"] == "test-run"
        status, key = conn.execute("select status, archive_key from audit.batches").fetchone()
        assert (status, key) == ("archived", archived.key)


def test_rearchiving_the_same_rows_gives_the_same_bytes(warehouse: WarehouseTarget, tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path)
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        first = archive_batch(conn, BATCH, store)
        second = archive_batch(conn, BATCH, store)
    assert first.sha256 == second.sha256 and first.key == second.key
