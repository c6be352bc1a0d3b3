"""What the dashboards read from gold (as the analyst role), as DataFrames for the charts."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import psycopg
from psycopg import sql

from liftoff.warehouse.refreshes import Refresh, latest_refresh

TREND_DAYS = 30


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]


def _frame(conn: psycopg.Connection, query: str | sql.Composable, params: tuple = ()) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [column.name for column in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    for column in frame.columns:  # numeric comes back as Decimal: charts want floats
        if frame[column].map(lambda value: hasattr(value, "as_tuple")).any():
            frame[column] = frame[column].astype(float)
    return frame


def product_names(conn: psycopg.Connection) -> list[str]:
    """The products the warehouse knows (what the entry form offers)."""
    if not _exists(conn, "gold.gold_products"):
        return []
    return [name for (name,) in conn.execute("select name from gold.gold_products order by name")]


def days_with_data(conn: psycopg.Connection) -> tuple[date, date] | None:
    """The first and last day gold has figures for; None before the first run."""
    if not _exists(conn, "gold.gold_sales_by_product_7d"):
        return None
    query = "select min(as_of_date), max(as_of_date) from gold.gold_sales_by_product_7d"
    row = conn.execute(query).fetchone()
    return None if row[0] is None else (row[0], row[1])


def _ranking(conn: psycopg.Connection, table: str, key: str, label: str, day: date) -> pd.DataFrame:
    """A 7-day gold table's rows for ``day``, best revenue first."""
    query = sql.SQL(
        "select revenue_rank as rank, {key} as {label}, sales, units, revenue, avg_ticket"
        " from {table} where as_of_date = %s order by revenue_rank, {key}"
    ).format(key=sql.Identifier(key), label=sql.Identifier(label), table=sql.Identifier("gold", table))
    return _frame(conn, query, (day,))


def product_performance(conn: psycopg.Connection, day: date) -> pd.DataFrame:
    return _ranking(conn, "gold_sales_by_product_7d", "product", "product", day)


def seller_ranking(conn: psycopg.Connection, day: date) -> pd.DataFrame:
    return _ranking(conn, "gold_sales_by_seller_7d", "seller_email", "seller", day)


def daily_trend(conn: psycopg.Connection, day: date, days: int = TREND_DAYS) -> pd.DataFrame:
    return _frame(
        conn,
        "select sale_date, revenue, sales, active_sellers from gold.gold_sales_daily"
        " where sale_date between %s and %s order by sale_date",
        (day - timedelta(days=days - 1), day),
    )


def freshness(conn: psycopg.Connection) -> Refresh | None:
    return latest_refresh(conn)


def today_so_far(conn: psycopg.Connection) -> pd.DataFrame | None:
    """Today's point-of-sale sales so far per product (``gold_sales_today``, the stream's
    preview), best revenue first; None where the warehouse has no such view."""
    if not _exists(conn, "gold.gold_sales_today"):
        return None
    return _frame(
        conn,
        "select product, sum(sales) as sales, sum(units) as units, sum(revenue) as revenue,"
        " max(last_sale_at) as last_sale_at from gold.gold_sales_today group by product"
        " order by sum(revenue) desc, product",
    )
