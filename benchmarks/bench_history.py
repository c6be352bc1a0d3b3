"""One day's dbt build with a year of history vs with a week: the daily cost must not grow.

Both warehouses get the same real seed day (landed from the demo APIs at a fixed volume and
built by dbt), then copies of it shifted one day back at a time, in every table that grows
day by day (landing, audit, bronze, silver, gold); reference snapshots are not copied. Then
the measured day's batches are landed and gated. Subject: `dbt build` of that day on a copy
of the 365-day warehouse; baseline: the same on a copy of the 7-day one, alternately.
Goal: at most 1.2x.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from statistics import median

import psycopg
from psycopg import sql

from benchmarks.bench_daily_run import api_rows, dbt_build, land_gated
from benchmarks.harness import Result, alternate, pg_server, scratch_database, timed
from liftoff.config import load_sources
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from sales_api.app import SalesApiSettings
from sales_api.server import BackgroundApi

DAY = date(2026, 11, 20)
SEED_DAY = DAY - timedelta(days=1)
ROWS_PER_DAY = 2_000
ORDERS_PER_DAY = 300
# Ids made unique per copied day; every date and time column is shifted instead.
COPY_SUFFIXED = {"sale_id", "record_id", "order_id", "batch_id", "airbyte_raw_id", "_airbyte_raw_id"}
RAW_TIMES = {"sold_at", "updated_at", "placed_at", "modified_at"}  # text in landing
GROWING = {  # table -> the column that says which day a row belongs to
    "raw_crm.sales": "updated_at",
    "raw_shop.orders": "modified_at",
    "audit.batches": "interval_start",
    "bronze.bronze_crm_sales": "batch_interval_start",
    "bronze.bronze_shop_orders": "batch_interval_start",
    "bronze.bronze_crm_sellers": "batch_interval_start",
    "bronze.bronze_crm_products": "batch_interval_start",
    "silver.silver_sales": "sale_date",
    "gold.gold_sales_daily": "sale_date",
    "gold.gold_sales_by_product_7d": "as_of_date",
    "gold.gold_sales_by_seller_7d": "as_of_date",
}


def _shifted(column: str, data_type: str) -> sql.Composable:
    name = sql.Identifier(column)
    if column in COPY_SUFFIXED:
        return sql.SQL("{} || '~' || copy.k").format(name)
    if data_type == "date":
        return sql.SQL("{} - copy.k").format(name)
    if data_type.startswith("timestamp"):
        return sql.SQL("{} - copy.k * interval '1 day'").format(name)
    if column in RAW_TIMES:
        return sql.SQL("({}::timestamptz - copy.k * interval '1 day')::text").format(name)
    return name


def add_history(conn: psycopg.Connection, days: int) -> None:
    """Copy the seed day ``days - 1`` times, one day further back each time."""
    for table in GROWING:
        schema, name = table.split(".")
        columns = conn.execute(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, name),
        ).fetchall()
        conn.execute(
            sql.SQL(
                "insert into {table} ({columns}) select {values} from {table}"
                " cross join generate_series(1, {copies}) as copy(k)"
            ).format(
                table=sql.Identifier(schema, name),
                columns=sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns),
                values=sql.SQL(", ").join(_shifted(c, t) for c, t in columns),
                copies=sql.Literal(days - 1),
            )
        )
    conn.commit()
    conn.autocommit = True
    conn.execute("vacuum analyze")
    conn.autocommit = False


def warehouse_with_history(server: Warehouse, api_url: str, days: int) -> Warehouse:
    """A database holding ``days`` days of history and the measured day's gated batches."""
    with scratch_database(server) as scratch:  # dropped once copied into a database we keep
        with scratch.connect() as conn:
            bootstrap(conn, list(load_sources()))
            conn.commit()
        land_gated(scratch, api_rows(api_url, SEED_DAY), SEED_DAY)
        dbt_build(scratch, SEED_DAY)
        with scratch.connect() as conn:
            add_history(conn, days)
        land_gated(scratch, api_rows(api_url, DAY), DAY)
        name = f"liftoff_bench_history_{days}"
        admin = Warehouse(server.host, server.port, "postgres", server.user, server.password)
        with admin.connect(autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}"')
            conn.execute(f'create database "{name}" template "{scratch.database}"')
    return Warehouse(server.host, server.port, name, server.user, server.password)


def rows_in(target: Warehouse, table: str) -> int:
    with target.connect() as conn:
        return int(conn.execute(sql.SQL("select count(*) from {}").format(sql.SQL(table))).fetchone()[0])


def run(repeat: int = 3) -> Result:
    settings = SalesApiSettings(rows_per_day=ROWS_PER_DAY, orders_per_day=ORDERS_PER_DAY)
    with tempfile.TemporaryDirectory() as tmp, pg_server(Path(tmp)) as server, BackgroundApi(settings) as api:
        week, year = (warehouse_with_history(server, api.url, days) for days in (7, 365))

        nodes: dict[int, list[dict[str, float]]] = {7: [], 365: []}

        def build_on_copy(template: Warehouse, days: int) -> float:
            with scratch_database(server, template=template) as copy:
                return timed(lambda: nodes[days].append(dbt_build(copy, DAY)))

        subject, baseline = alternate(
            lambda: build_on_copy(year, 365), lambda: build_on_copy(week, 7), repeat
        )
        growth = {
            node.split(".")[2]: round(
                median([run[node] for run in nodes[365]]) - median([run[node] for run in nodes[7]]), 2
            )
            for node in nodes[7][0]
        }
        notes = {
            "most_grown_nodes_s": dict(sorted(growth.items(), key=lambda item: -item[1])[:6]),
            "silver_rows_7d": rows_in(week, "silver.silver_sales"),
            "silver_rows_365d": rows_in(year, "silver.silver_sales"),
            "raw_crm_rows_365d": rows_in(year, "raw_crm.sales"),
        }
        admin = Warehouse(server.host, server.port, "postgres", server.user, server.password)
        with admin.connect(autocommit=True) as conn:
            for target in (week, year):
                conn.execute(f'drop database if exists "{target.database}" with (force)')
    return Result("history_365d", "dbt_build_365d", "dbt_build_7d", subject, baseline, notes)
