"""Triage: list the quarantine, replay a batch after a contract fix; conservation holds."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import Field

from liftoff.batch import Batch, Interval
from liftoff.validate import quarantine
from liftoff.validate.gate import validate_batch
from liftoff.validate.quarantine import UnknownBatch, list_quarantine, replay_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import CONTRACTS, Sale
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

DAY = date(2026, 11, 20)
BATCH = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))


def counts(conn) -> tuple[int, int, int]:
    return conn.execute(
        "select landed, accepted, rejected from audit.batches where batch_id = %s", (BATCH.batch_id,)
    ).fetchone()


def test_list_shows_fields_and_messages(warehouse: Warehouse) -> None:
    day = sales_for_day(DAY, dirty_fraction=0.4)
    with warehouse.connect() as conn:
        land_sales(conn, day.sales)
        result = validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        rows = list_quarantine(conn, BATCH.batch_id)
        assert len(rows) == result.rejected
        assert {row["fields"] for row in rows} <= {"seller_email", "amount", "sold_at"}
        assert all(row["message"] for row in rows)
        assert len(list_quarantine(conn, "crm.sales.19990101T0000")) == 0


def test_replay_with_the_same_contract_moves_nothing(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        land_sales(conn, sales_for_day(DAY, dirty_fraction=0.4).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        before = counts(conn)
        result = replay_batch(conn, BATCH.batch_id)
        assert (result.moved, result.still_rejected) == (0, before[2])
        assert counts(conn) == before


def test_replay_after_a_contract_fix_moves_the_now_valid_rows(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = sales_for_day(DAY, dirty_fraction=0.4)
    negative = {e["sale_id"] for e in day.dirty if e["kind"] == "negative_amount"}
    assert negative, "the chosen day must have negative amounts"
    latest = f"{DAY}T23:59:59+00:00"  # a refund is the day's newest sale
    with warehouse.connect() as conn:
        land_sales(conn, day.sales)
        conn.execute("update raw_crm.sales set updated_at = %s where sale_id = %s", (latest, min(negative)))
        validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        landed, _, rejected = counts(conn)

        class FixedSale(Sale):  # the "fix": refunds (negative amounts) are sales too
            __version__ = "1.2.0"
            amount: Annotated[Decimal, Field(max_digits=12, decimal_places=2)]

        FixedSale.__name__ = "Sale"
        monkeypatch.setattr(quarantine, "CONTRACTS", {**CONTRACTS, "sale": FixedSale})
        result = replay_batch(conn, BATCH.batch_id)
        assert result.moved == len(negative) and result.contract_version == "1.2.0"
        still = {r[0] for r in conn.execute("select row_data->>'sale_id' from audit.quarantine")}
        assert not still & negative
        assert counts(conn) == (landed, landed - rejected + len(negative), rejected - len(negative))
        # freshness reads the newest cursor of the accepted rows: the moved ones count now
        newest = conn.execute(
            "select max(audit.cursor_time(updated_at::text)) from raw_crm.sales where sale_id <> all(%s)",
            (list(still),),
        ).fetchone()[0]
        recorded = conn.execute(
            "select newest_cursor from audit.batches where batch_id = %s", (BATCH.batch_id,)
        ).fetchone()[0]
        assert recorded == newest == datetime.fromisoformat(latest)


def test_replay_of_an_unknown_batch(warehouse: Warehouse) -> None:
    with warehouse.connect() as conn:
        land_sales(conn, [])
        with pytest.raises(UnknownBatch, match="no batch"):
            replay_batch(conn, "crm.sales.19990101T0000")
