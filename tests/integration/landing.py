"""Build a landing table in Airbyte's raw layout, as PyAirbyte or an Airbyte server would."""

from __future__ import annotations

import json
import uuid

import psycopg

from liftoff.warehouse.bootstrap import bootstrap

SALE_COLUMNS = ("sale_id", "seller_email", "product", "quantity", "amount", "sold_at", "updated_at")


def land_sales(conn: psycopg.Connection, rows: list[dict], source: str = "crm") -> None:
    bootstrap(conn, [source])
    conn.execute(
        f"""create table if not exists raw_{source}.sales (
            sale_id varchar, seller_email varchar, product varchar, quantity numeric(38, 9),
            amount varchar, sold_at varchar, updated_at varchar,
            _airbyte_raw_id varchar, _airbyte_extracted_at timestamp, _airbyte_meta json)"""
    )
    with conn.cursor().copy(
        f"copy raw_{source}.sales ({', '.join(SALE_COLUMNS)}, _airbyte_raw_id, _airbyte_extracted_at,"
        " _airbyte_meta) from stdin"
    ) as copy:
        for row in rows:
            copy.write_row(
                (
                    *(row.get(c) for c in SALE_COLUMNS),
                    str(uuid.uuid4()),
                    "2026-11-21 01:00:00",
                    json.dumps({}),
                )
            )
    conn.commit()
