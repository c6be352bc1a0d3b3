"""A row is judged by the contract, never by the landing: a cursor that is garbage or missing
is quarantined in the batch of the run that landed it, and blocks no later day."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from psycopg import sql

from liftoff.batch import Batch, Interval
from liftoff.config import load_sources
from liftoff.ingest.local import promote
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from tests.entry.test_roles import a_sale

DAY = date(2026, 11, 20)


def quarantined(conn, batch: Batch) -> dict[str, list[str]]:
    rows = conn.execute(
        "select row_data->>'sale_id', errors from audit.quarantine where batch_id = %s", (batch.batch_id,)
    ).fetchall()
    return {sale_id: [error["field"] for error in errors] for sale_id, errors in rows}


def test_a_writers_garbage_cursor_is_quarantined_and_blocks_no_later_day(app_warehouse) -> None:
    """The attack as tried: as entry_writer, a row whose updated_at is `garbage`."""
    entered = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=10)
    with app_warehouse.entry_writer.connect() as conn:
        conn.execute(
            "insert into raw_entry.sales (sale_id, seller_email, sold_at, amount, quantity, product,"
            " updated_at, _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta)"
            " values ('entry-bad', 'a@x.io', '2026-11-20T09:00:00Z', '1.00', '1', 'P', 'garbage',"
            " %s, %s, '{}')",
            (str(uuid.uuid4()), entered.replace(tzinfo=None)),
        )
        conn.commit()
    pushed = load_sources()["entry"]
    days = [Batch.all_of("entry", pushed, Interval.for_day(DAY + timedelta(days=n)))[0] for n in range(3)]
    with app_warehouse.pipeline.connect() as conn:
        first = validate_batch(conn, days[0], Sale, max_reject_ratio=1.0)
        later = [validate_batch(conn, batch, Sale, max_reject_ratio=1.0) for batch in days[1:]]
        assert (first.landed, first.accepted, first.rejected) == (1, 0, 1), "judged in the day it was written"
        assert quarantined(conn, days[0]) == {"entry-bad": ["updated_at"]}
        assert [(r.landed, r.rejected) for r in later] == [(0, 0), (0, 0)], "later days run, without it"


def test_a_synced_row_without_a_cursor_belongs_to_the_run_that_landed_it(bootstrapped: Warehouse) -> None:
    """1 of 52 rows with a null cursor: landed, counted, quarantined, replaced by a rerun."""
    crm = load_sources()["crm"]
    batch = Batch.of("crm", "sales", crm.streams["sales"], Interval.for_day(DAY))
    sales = [a_sale(f"S{n}").model_dump(mode="json") for n in range(52)]
    for sale in sales:
        sale["updated_at"] = f"{DAY}T12:00:00+00:00"
        sale["sold_at"] = f"{DAY}T09:00:00+00:00"
    sales[7]["updated_at"] = None
    with bootstrapped.connect() as conn:
        for attempt in range(2):  # the run, then a rerun of the same day
            staging = f"raw_crm__stage{attempt}"
            conn.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
            columns = [*sales[0], "_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"]
            conn.execute(
                sql.SQL("create table {} ({})").format(
                    sql.Identifier(staging, "sales"),
                    sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns),
                )
            )
            with conn.cursor().copy(
                sql.SQL("copy {} from stdin").format(sql.Identifier(staging, "sales"))
            ) as copy:
                for sale in sales:
                    copy.write_row([*sale.values(), str(uuid.uuid4()), datetime.now(UTC).isoformat(), "{}"])
            with conn.transaction():
                landed = promote(conn, batch, staging)
            assert landed == 52, "the row with no cursor is in the batch"
            result = validate_batch(conn, batch, Sale, max_reject_ratio=1.0)
            assert (result.landed, result.accepted, result.rejected) == (52, 51, 1)
            assert quarantined(conn, batch) == {"S7": ["updated_at"]}
        in_landing = conn.execute("select count(*) from raw_crm.sales").fetchone()[0]
        assert in_landing == 52, "the rerun replaced the row, as every other"
        json.dumps(sales)  # the rows stayed JSON-able (a sanity check of the fixture)
