"""The landing layout, defined in one place. Every landing table keeps Airbyte's raw layout,
whichever way its rows arrive (an Airbyte server, the CDK runner, an app's push, a Kafka
topic): the record's fields, then Airbyte's bookkeeping columns. A stream source's table
also keeps each message's place in its topic (partition and offset) and its broker timestamp.

``_airbyte_meta`` says what landing changed in a record: nothing (``CLEAN_META``), or the
fields it nulled and why (``nulled_meta``). It has Airbyte's own shape, so the contract
check (the gate) reads one shape whatever the source.

This module imports only the standard library and psycopg, because the CDK runner imports it
in the connector's own virtualenv. The warehouse bootstrap makes the pushed and streamed
sources' tables from it.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from psycopg import sql


class Column(NamedTuple):
    type: str  # the column's PostgreSQL type
    description: str


RAW_ID = "_airbyte_raw_id"  # the record's key in a table the platform makes
# The whole record as the API sent it, a JSON column beside the typed ones: a field the
# schema does not declare yet still lands (our manifests' ``AddFields``; the CDK runner's writer)
WHOLE_RECORD = "_record"
AIRBYTE_COLUMNS = {
    RAW_ID: Column("varchar", "Airbyte's id of the landed record."),
    "_airbyte_extracted_at": Column(
        "timestamp", "When the record was extracted (UTC)."
    ),  # without a time zone, as Airbyte makes it
    "_airbyte_meta": Column("json", "Airbyte's notes on the record (changes made while landing it)."),
}
KAFKA_COLUMNS = {
    "_kafka_partition": Column("integer", "The topic partition the message was read from."),
    "_kafka_offset": Column("bigint", "The message's offset in its partition."),
    "_kafka_timestamp": Column("timestamptz", "The broker's timestamp of the message (the batch's cursor)."),
}
BOOKKEEPING_COLUMNS = (*AIRBYTE_COLUMNS, *KAFKA_COLUMNS)

# Who pushed a pushed source's row: the server fills it in, never the app. It is not a
# contract field: the gate judges it as an extra column, which contracts ignore.
ENTERED_BY = "entered_by"

CLEAN_META = json.dumps({"changes": [], "sync_id": None})  # the record landed unchanged


def nulled(field: str, detail: str, reason: str = "DESTINATION_SERIALIZATION_ERROR") -> dict:
    """One change of ``_airbyte_meta``: ``field`` landed null, and why."""
    return {"field": field, "change": "NULLED", "reason": reason, "detail": detail}


def nulled_meta(changes: list[dict]) -> str:
    """``_airbyte_meta`` of a record whose fields were nulled (one change per field)."""
    return json.dumps({"changes": changes, "sync_id": None})


def _create(schema: str, table: str, fields: list[str], extra: list[sql.Composable]) -> sql.Composed:
    """A landing table the platform makes (a pushed or a stream source's): the contract's
    fields as text, Airbyte's columns (every one required, the record's id its key), ``extra``."""
    columns = [sql.SQL("{} text").format(sql.Identifier(name)) for name in fields]
    columns += [
        sql.SQL(f"{name} {column.type} {'primary key' if name == RAW_ID else 'not null'}")
        for name, column in AIRBYTE_COLUMNS.items()
    ]
    return sql.SQL("create table if not exists {} ({})").format(
        sql.Identifier(schema, table), sql.SQL(", ").join([*columns, *extra])
    )


def pushed_table_ddl(schema: str, table: str, fields: list[str], primary_key: str) -> list[sql.Composed]:
    """The landing table of a pushed source's stream: the contract's fields as text (the
    record's key unique), Airbyte's columns, and who entered each row (``entered_by``, on a
    table new or older than the column: rows landed before it keep null, every later row gets
    the login that inserted it)."""
    target, column = sql.Identifier(schema, table), sql.Identifier(ENTERED_BY)
    return [
        _create(schema, table, fields, [sql.SQL("unique ({})").format(sql.Identifier(primary_key))]),
        sql.SQL("alter table {} add column if not exists {} text").format(target, column),
        sql.SQL("alter table {} alter column {} set default session_user").format(target, column),
    ]


def streamed_table_ddl(schema: str, table: str, fields: list[str]) -> list[sql.Composed]:
    """The landing table of a stream source: the contract's fields as text, Airbyte's columns,
    the message's partition, offset and broker timestamp (indexed: a run's slice, and the view
    of today, are ranges of broker time)."""
    kafka = [sql.SQL(f"{name} {column.type} not null") for name, column in KAFKA_COLUMNS.items()]
    return [
        _create(schema, table, fields, kafka),
        sql.SQL("create index if not exists {} on {} (_kafka_timestamp)").format(
            sql.Identifier(f"{table}_kafka_timestamp"), sql.Identifier(schema, table)
        ),
    ]
