"""Dated snapshots of the gold tables in the archive, for analysts and tools without
database access: ``exports/<table>/dt=<day>/<table>.csv`` (CSV with a header row).

A table with an ``as_of_date`` or ``sale_date`` column exports that day's rows; any other
(a dimension, the refresh log) exports whole. A text cell that a spreadsheet would run as a
formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a product or
seller name someone typed) is written with a leading ``'``, as OWASP advises. Rewriting a
day's export replaces it: an export is as safe to rerun as the run that made it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from liftoff.archive.store import ObjectStore
from liftoff.config import GOLD_SCHEMA as SCHEMA

DAY_COLUMNS = ("as_of_date", "sale_date")  # the first one a table has scopes its export


@dataclass(frozen=True)
class Export:
    table: str
    key: str
    rows: int


def export_key(table: str, day: date) -> str:
    return f"exports/{table}/dt={day.isoformat()}/{table}.csv"


FORMULA_START = "^[=+@\t\r-]"  # a spreadsheet reads such a cell as a formula


def table_columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """``table``'s columns and their types, in order; a missing table is a LookupError."""
    columns = conn.execute(
        "select column_name, data_type from information_schema.columns where table_schema = %s"
        " and table_name = %s order by ordinal_position",
        (SCHEMA, table),
    ).fetchall()
    if not columns:
        raise LookupError(f"{SCHEMA}.{table} does not exist (has the day's run built gold?)")
    return columns


def day_column(columns: list[tuple[str, str]]) -> str | None:
    names = {name for name, _ in columns}
    return next((column for column in DAY_COLUMNS if column in names), None)


def _cell(name: str, data_type: str) -> sql.Composable:
    """The column as exported: a text cell that starts a formula gets a leading quote."""
    column = sql.Identifier(name)
    if data_type not in ("text", "character varying", "character"):
        return column
    return sql.SQL("case when {c} ~ {start} then {quote} || {c} else {c} end as {c}").format(
        c=column, start=sql.Literal(FORMULA_START), quote=sql.Literal("'")
    )


def export_table(conn: psycopg.Connection, store: ObjectStore, table: str, day: date) -> Export:
    """Write ``table``'s rows of ``day`` (or all of them) to the archive as CSV."""
    columns = table_columns(conn, table)
    column = day_column(columns)
    query = sql.SQL("select {} from {}.{}").format(
        sql.SQL(", ").join(_cell(name, data_type) for name, data_type in columns),
        sql.Identifier(SCHEMA),
        sql.Identifier(table),
    )
    if column:
        query += sql.SQL(" where {} = {} order by 1, 2").format(sql.Identifier(column), sql.Literal(day))
    buffer = io.BytesIO()
    copy = sql.SQL("copy ({}) to stdout with (format csv, header)").format(query)
    with conn.cursor() as cur, cur.copy(copy) as out:
        for chunk in out:
            buffer.write(chunk)
    data = buffer.getvalue()
    key = export_key(table, day)
    store.put_bytes(key, data)
    return Export(table, key, max(data.count(b"\n") - 1, 0))
