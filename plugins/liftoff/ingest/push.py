"""Pushed sources: an application writes the rows straight into the landing table.

The table keeps Airbyte's raw layout (the contract's fields as untyped text beside
``_airbyte_raw_id``, ``_airbyte_extracted_at``, ``_airbyte_meta``), so a run validates,
archives and transforms pushed rows exactly like synced ones. The stream's primary key is
unique: pushing a record again (a double click, a re-uploaded file) adds nothing.

Each row records who pushed it: ``entered_by`` defaults to the session's login
(``session_user``: a salesperson's own role in the team deployment, ``entry_writer`` on the
embedded default). The insert never names it, and the entry writer's grant leaves it out
(``liftoff.warehouse.roles``): an app cannot write another name there.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from pydantic import BaseModel

from liftoff.config import landing_schema
from liftoff.ingest.landing_layout import AIRBYTE_COLUMNS, CLEAN_META
from liftoff_contracts import field_column


def push_records(
    conn: psycopg.Connection,
    source: str,
    stream: str,
    records: Sequence[BaseModel],
    *,
    extracted_at: datetime | None = None,
) -> int:
    """Land validated ``records`` in one transaction; returns how many were new.

    A record whose primary key is already landed is skipped (``on conflict do nothing``
    needs only the INSERT privilege, all the entry writer role has).
    """
    if not records:
        return 0
    extracted_at = (extracted_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    model = type(records[0])
    names = {field_column(name, info): name for name, info in model.model_fields.items()}  # column: field
    columns = [*names, *AIRBYTE_COLUMNS]
    statement = sql.SQL("insert into {} ({}) values ({}) on conflict do nothing").format(
        sql.Identifier(landing_schema(source), stream),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    rows = []
    for record in records:
        values = record.model_dump(mode="json")
        cells = [_as_text(values[name]) for name in names.values()]
        rows.append([*cells, str(uuid.uuid4()), extracted_at, CLEAN_META])
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(statement, rows, returning=False)
        return cur.rowcount


def _as_text(value: object) -> str | None:
    return None if value is None else str(value)
