"""Build landing tables in Airbyte's raw layout, as the connector runner or an Airbyte server would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from liftoff.warehouse.bootstrap import bootstrap

SALE_COLUMNS = ("sale_id", "seller_email", "product", "quantity", "amount", "sold_at", "updated_at")
AIRBYTE_COLUMNS = ("_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta")


def land(
    conn: psycopg.Connection,
    stream: str,
    rows: list[dict],
    columns: tuple[str, ...] | None = None,
    source: str = "crm",
) -> None:
    """Append ``rows`` to ``raw_<source>.<stream>`` (created if missing).

    Columns are text, except objects and arrays, which land as JSON as Airbyte's
    destinations write them.
    """
    bootstrap(conn, [source])
    columns = columns or tuple(dict.fromkeys(key for row in rows for key in row))
    nested = {c for c in columns if any(isinstance(row.get(c), dict | list) for row in rows)}
    table = sql.Identifier(f"raw_{source}", stream)
    definitions = [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL("json" if c in nested else "varchar"))
        for c in columns
    ]
    definitions += [sql.SQL("_airbyte_raw_id varchar, _airbyte_extracted_at timestamp, _airbyte_meta json")]
    conn.execute(sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(definitions)))
    extracted_at = datetime.now(UTC).replace(tzinfo=None)  # Airbyte writes UTC without a zone
    names = sql.SQL(", ").join(sql.Identifier(c) for c in (*columns, *AIRBYTE_COLUMNS))
    with conn.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(table, names)) as copy:
        for row in rows:
            values = [
                None if row.get(c) is None else json.dumps(row[c]) if c in nested else str(row[c])
                for c in columns
            ]
            copy.write_row((*values, str(uuid.uuid4()), extracted_at, json.dumps({})))
    conn.commit()


def land_sales(conn: psycopg.Connection, rows: list[dict], source: str = "crm") -> None:
    land(conn, "sales", rows, SALE_COLUMNS, source)
