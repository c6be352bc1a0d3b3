"""A reference stream's bronze (a full-refresh snapshot) replaces its rows in place: the next
day's bronze runs beside this day's silver (dags/sales_elt.py), and a table swap would drop the
bronze views silver reads (dbt drops the swapped-out table with `cascade`)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from liftoff.batch import Batch, Interval
from liftoff.config import load_sources
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Product
from tests.dbt.dbt_cli import dbt_run
from tests.integration.landing import land

DAY = date(2026, 11, 20)
PRODUCT_COLUMNS = ("product_id", "name", "category", "unit_price", "updated_at")


def land_snapshot(target: Warehouse, interval: Interval, products: list[tuple[str, str, str]]) -> None:
    """The CRM's catalogue as a full-refresh sync lands it (replacing the landed one), gated."""
    crm = load_sources()["crm"]
    with target.connect() as conn:
        conn.execute("drop table if exists raw_crm.products")
        snapshot = [{"product_id": i, "name": n, "unit_price": price} for i, n, price in products]
        land(conn, "products", snapshot, PRODUCT_COLUMNS)
        [batch] = [b for b in Batch.all_of("crm", crm, interval) if b.stream == "products"]
        assert validate_batch(conn, batch, Product, max_reject_ratio=0.0).accepted == len(products)
        conn.commit()


def one(target: Warehouse, query: str):
    with target.connect() as conn:
        return conn.execute(query).fetchone()


def test_a_snapshot_replaces_its_rows_in_place_and_the_views_stay(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    day, next_day = Interval.for_day(DAY), Interval.for_day(DAY + timedelta(days=1))
    with warehouse.connect() as conn:
        bootstrap(conn, list(load_sources()))
        conn.commit()
    land_snapshot(warehouse, day, [("P1", "Starter Plan", "49.00")])
    dbt_run(warehouse, tmp_path, day, "bronze_crm_products", "bronze_product")
    table, view = one(
        warehouse,
        "select 'bronze.bronze_crm_products'::regclass::oid, 'bronze.bronze_product'::regclass::oid",
    )

    land_snapshot(warehouse, next_day, [("P1", "Starter Plan v2", "59.00"), ("P2", "Growth Plan", "199.00")])
    log = tmp_path / "dbt.log"
    seen = log.stat().st_size
    dbt_run(warehouse, tmp_path, next_day, "bronze_crm_products")  # the table alone, as a build's first step
    with log.open(errors="replace") as text:
        text.seek(seen)
        statements = text.read().lower()
    assert "delete from" in statements and "insert into" in statements
    assert " rename to " not in statements and "drop table" not in statements, "no swap of the table"
    exists = "select to_regclass('bronze.bronze_product')::oid, 'bronze.bronze_crm_products'::regclass::oid"
    assert one(warehouse, exists) == (view, table), (
        "the view silver reads is still there, over the same table"
    )
    assert one(warehouse, "select count(*), min(name) from bronze.bronze_product") == (2, "Growth Plan")
    assert one(warehouse, "select count(distinct batch_interval_start) from bronze.bronze_crm_products") == (
        1,
    )
