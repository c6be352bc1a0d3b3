"""Bronze takes of a changing landing only what the gate judged: a sale the entry app commits
after its day's gate (a partial day's run, while it transforms) waits for the next run of the
day, so every bronze row was gated and counted in its batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from liftoff.batch import Batch, Interval
from liftoff.config import load_sources
from liftoff.ingest.push import push_records
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from tests.dbt.dbt_cli import dbt_run


def sale(key: str, at: datetime) -> Sale:
    return Sale(
        sale_id=key,
        seller_email="ana@liftoff.example",
        sold_at=at,
        amount=Decimal("49.00"),
        quantity=1,
        product="Starter Plan",
        updated_at=at,
    )


def test_a_sale_pushed_after_the_gate_waits_for_the_next_run_of_its_day(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    day = datetime.now(UTC).date() - timedelta(days=1)
    interval = Interval.for_day(day)
    at = interval.start + timedelta(hours=10)
    entry = load_sources()["entry"]
    [batch] = Batch.all_of("entry", entry, interval)
    assert batch.records_gated
    with warehouse.connect() as conn:
        bootstrap(conn, list(load_sources()))
        conn.commit()
        push_records(conn, "entry", "sales", [sale("entry-1", at), sale("entry-2", at)])
        result = validate_batch(conn, batch, Sale, max_reject_ratio=0.0)
        conn.commit()
        assert result.accepted == 2
        push_records(
            conn, "entry", "sales", [sale("entry-late", at + timedelta(minutes=5))]
        )  # after the gate

    dbt_run(warehouse, tmp_path, interval, "bronze_entry_sales")
    with warehouse.connect() as conn:
        ids = [r[0] for r in conn.execute("select sale_id from bronze.bronze_entry_sales order by 1")]
    assert ids == ["entry-1", "entry-2"], "the sale committed after the gate was never gated"

    with warehouse.connect() as conn:  # the day's next run gates it
        assert validate_batch(conn, batch, Sale, max_reject_ratio=0.0).accepted == 3
        conn.commit()
    dbt_run(warehouse, tmp_path, interval, "bronze_entry_sales")
    with warehouse.connect() as conn:
        ids = [r[0] for r in conn.execute("select sale_id from bronze.bronze_entry_sales order by 1")]
    assert ids == ["entry-1", "entry-2", "entry-late"]
