"""The warehouse roles of the apps, against a real PostgreSQL: least privilege, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from liftoff.config import load_sources
from liftoff.entry.form import SOURCE, STREAM, check_sale, new_entry_key
from liftoff.ingest.push import push_records
from liftoff.warehouse.bootstrap import bootstrap
from tests.entry.conftest import AppWarehouse, add_products


def a_sale(key: str | None = None):
    now = datetime.now(UTC)
    checked = check_sale(
        key or new_entry_key(),
        seller_email="ana@liftoff.example",
        sold_at=now.replace(microsecond=0),
        amount="49.00",
        quantity=1,
        product="Starter Plan",
        products={"Starter Plan"},
        now=now,
    )
    assert checked.sale is not None, checked.errors
    return checked.sale


def denied(target, statement: str) -> bool:
    with target.connect() as conn:
        try:
            conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            return True
    return False


def test_analyst_reads_gold_and_nothing_else(app_warehouse: AppWarehouse) -> None:
    add_products(app_warehouse.pipeline, "Starter Plan")  # created after the grants: default privileges
    with app_warehouse.owner.connect() as conn:
        conn.execute("create schema if not exists raw_crm")
        conn.execute("create table raw_crm.sales (sale_id text, seller_email text)")
        conn.commit()
    analyst = app_warehouse.analyst
    with analyst.connect() as conn:
        assert conn.execute("select name from gold.gold_products").fetchall() == [("Starter Plan",)]
    for statement in (
        "select * from raw_crm.sales",
        "select * from raw_entry.sales",
        "select * from audit.batches",
        "select * from audit.quarantine",
        "insert into gold.gold_products values ('P9', 'Hack', null, 1)",
        "update gold.gold_products set name = 'x'",
        "delete from gold.gold_products",
        "create table gold.mine (x int)",
        "create table public.mine (x int)",
        "create temporary table mine (x int)",
        "insert into raw_entry.sales (sale_id) values ('x')",
    ):
        assert denied(analyst, statement), f"the analyst may not: {statement}"
    with analyst.connect() as conn:
        assert conn.execute("show statement_timeout").fetchone()[0] == "1min", "no runaway query"


def test_the_pipeline_does_its_job_and_no_more(app_warehouse: AppWarehouse) -> None:
    pipeline = app_warehouse.pipeline
    with pipeline.connect() as conn:
        rolsuper, createrole, createdb = conn.execute(
            "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user"
        ).fetchone()
        assert not (rolsuper or createrole or createdb)
        conn.execute(  # its job: the audit tables, landing a synced source, the dbt layers
            "insert into audit.batches (batch_id, source, stream, interval_start, interval_end,"
            " contract, contract_version, status)"
            " values ('b', 'crm', 'sales', now(), now(), 'sale', '1', 'landed')"
        )
        conn.execute("create table raw_crm.sales (sale_id text)")
        conn.execute("create table bronze.mine (x int)")
        conn.execute("create temporary table staged (x int)")
        conn.execute("select count(*) from raw_entry.sales")
        conn.commit()
    for statement in (
        "create role intruder",
        "drop table audit.batches",
        "alter table audit.quarantine add column x int",
        "create table public.mine (x int)",
        "create table audit.mine (x int)",
        "insert into raw_entry.sales (sale_id) values ('x')",
    ):
        assert denied(pipeline, statement), f"the pipeline may not: {statement}"


def test_entry_writer_inserts_into_raw_entry_only(app_warehouse: AppWarehouse) -> None:
    add_products(app_warehouse.pipeline, "Starter Plan")
    writer = app_warehouse.entry_writer
    with writer.connect() as conn:
        assert push_records(conn, SOURCE, STREAM, [a_sale()]) == 1
    for statement in (
        "select * from gold.gold_products",
        "select * from raw_entry.sales",
        "update raw_entry.sales set amount = '1'",
        "delete from raw_entry.sales",
        "select * from audit.batches",
        "create table public.mine (x int)",
    ):
        assert denied(writer, statement), f"the entry writer may not: {statement}"
    with app_warehouse.owner.connect() as conn:
        assert conn.execute("select count(*) from raw_entry.sales").fetchone()[0] == 1


def test_a_pushed_sale_lands_once_in_airbyte_layout(app_warehouse: AppWarehouse) -> None:
    sale = a_sale()
    with app_warehouse.entry_writer.connect() as conn:
        assert push_records(conn, SOURCE, STREAM, [sale]) == 1
        assert push_records(conn, SOURCE, STREAM, [sale]) == 0  # the same key again: nothing added
    with app_warehouse.owner.connect() as conn:
        rows = conn.execute(
            "select sale_id, seller_email, amount, quantity, product, sold_at::timestamptz,"
            " _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta from raw_entry.sales"
        ).fetchall()
    assert len(rows) == 1
    sale_id, email, amount, quantity, product, sold_at, raw_id, extracted_at, meta = rows[0]
    expected = (sale.sale_id, sale.seller_email, "49.00", "1", "Starter Plan")
    assert (sale_id, email, amount, quantity, product) == expected
    assert sold_at == sale.sold_at and raw_id and extracted_at is not None and meta["changes"] == []


def test_bootstrap_makes_the_layer_schemas_before_dbt(app_warehouse: AppWarehouse) -> None:
    """The first day's models of a layer build in parallel: were each to create the schema,
    two `create schema if not exists` at once can collide (a failed model, seen in CI)."""
    with app_warehouse.owner.connect() as conn:
        found = conn.execute(
            "select nspname from pg_namespace where nspname in ('bronze', 'silver', 'gold') order by 1"
        ).fetchall()
    assert found == [("bronze",), ("gold",), ("silver",)]


def test_bootstrap_twice_changes_nothing(app_warehouse: AppWarehouse) -> None:
    with app_warehouse.entry_writer.connect() as conn:
        push_records(conn, SOURCE, STREAM, [a_sale()])
    with app_warehouse.owner.connect() as conn:
        bootstrap(conn, list(load_sources()))  # no passwords configured: the roles keep theirs
        conn.commit()
        assert conn.execute("select count(*) from raw_entry.sales").fetchone()[0] == 1
    with app_warehouse.entry_writer.connect() as conn:  # still logs in, still inserts
        assert push_records(conn, SOURCE, STREAM, [a_sale()]) == 1


def test_a_password_with_dollars_quotes_and_spaces_never_travels_in_sql(warehouse, tmp_path) -> None:
    """Passwords go to PostgreSQL as SCRAM verifiers: no SQL text (so no server log) holds them."""
    from pydantic import SecretStr

    from liftoff.config import get_settings

    password = "pa$$ 'wo\"rd' $$; drop role x; --"
    settings = get_settings().model_copy(update={"pipeline_password": SecretStr(password)})
    trace = tmp_path / "libpq-trace"
    with warehouse.connect() as conn, trace.open("w") as out:
        conn.pgconn.trace(out.fileno())  # every message the client sends, as libpq sends it
        bootstrap(conn, settings=settings)
        conn.commit()
        conn.pgconn.untrace()
    sent = trace.read_text()
    assert "SCRAM-SHA-256$" in sent and "pa$$" not in sent and "drop role x" not in sent
    with warehouse.as_role("pipeline", SecretStr(password)).connect() as conn:
        assert conn.execute("select current_user").fetchone()[0] == "pipeline"
