"""The contract gate on a real PostgreSQL: conservation, quarantine, reruns, threshold."""

from __future__ import annotations

from datetime import date

import pytest

from liftoff.batch import Batch, Interval
from liftoff.validate.gate import BatchRejected, validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

DAY = date(2026, 11, 20)
BATCH = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))


def audit(conn, batch_id: str) -> tuple:
    return conn.execute(
        "select landed, accepted, rejected, status from audit.batches where batch_id = %s", (batch_id,)
    ).fetchone()


def test_dirty_day_conserves_rows_and_quarantines_exactly_the_contract_violations(
    warehouse: Warehouse,
) -> None:
    day = sales_for_day(DAY, dirty_fraction=0.4)
    violating = {
        e["sale_id"] for e in day.dirty if e["kind"] in {"bad_email", "negative_amount", "impossible_date"}
    }
    with warehouse.connect() as conn:
        land_sales(conn, day.sales)
        result = validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0, chunk_size=7)
        assert result.landed == len(day.sales)
        assert result.landed == result.accepted + result.rejected
        quarantined = {r[0] for r in conn.execute("select row_data->>'sale_id' from audit.quarantine")}
        assert quarantined == violating
        assert audit(conn, BATCH.batch_id) == (result.landed, result.accepted, result.rejected, "validated")
        fields = {
            r[0]
            for r in conn.execute("select e->>'field' from audit.quarantine, jsonb_array_elements(errors) e")
        }
        assert fields <= {"seller_email", "amount", "sold_at"}


def test_rerun_replaces_audit_and_quarantine(warehouse: Warehouse) -> None:
    day = sales_for_day(DAY, dirty_fraction=0.4)
    with warehouse.connect() as conn:
        land_sales(conn, day.sales)
        first = validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        second = validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        assert (first.landed, first.rejected, first.checksum) == (
            second.landed,
            second.rejected,
            second.checksum,
        )
        assert conn.execute("select count(*) from audit.batches").fetchone()[0] == 1
        assert conn.execute("select count(*) from audit.quarantine").fetchone()[0] == second.rejected


def test_checksum_depends_on_content_not_on_landing_ids(warehouse: Warehouse) -> None:
    rows = sales_for_day(DAY).sales
    with warehouse.connect() as conn:
        land_sales(conn, rows)
        first = validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        conn.execute("delete from raw_crm.sales")
        land_sales(conn, list(reversed(rows)))  # new _airbyte_raw_ids, other order
        assert validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0).checksum == first.checksum
        conn.execute("update raw_crm.sales set amount = '1.00' where sale_id = %s", (rows[0]["sale_id"],))
        assert validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0).checksum != first.checksum


def test_over_threshold_fails_with_a_summary_and_is_audited(warehouse: Warehouse) -> None:
    day = sales_for_day(DAY, dirty_fraction=0.6)
    with warehouse.connect() as conn:
        land_sales(conn, day.sales)
        with pytest.raises(BatchRejected, match=r"rejected=\d+ .*top errors: .*threshold is 5.0%"):
            validate_batch(conn, BATCH, Sale, max_reject_ratio=0.05)
        landed, accepted, rejected, status = audit(conn, BATCH.batch_id)
        assert status == "rejected" and landed == len(day.sales) and accepted > 0 and rejected > 0


def test_rows_outside_the_interval_are_not_in_the_batch(warehouse: Warehouse) -> None:
    rows = sales_for_day(DAY).sales + sales_for_day(date(2026, 11, 21)).sales
    with warehouse.connect() as conn:
        land_sales(conn, rows)
        result = validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        assert result.landed == len(sales_for_day(DAY).sales)


def test_empty_batch_is_audited_as_empty(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        land_sales(conn, [])
        result = validate_batch(conn, BATCH, Sale, max_reject_ratio=0.0)
        assert (result.landed, result.accepted, result.rejected) == (0, 0, 0)
        assert audit(conn, BATCH.batch_id) == (0, 0, 0, "validated")
