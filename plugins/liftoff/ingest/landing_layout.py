"""The landing layout, in one place: every landing table keeps Airbyte's raw layout,
whichever way its rows arrive (an Airbyte server, the CDK runner, an app's push, a Kafka
topic): the record's fields, then Airbyte's bookkeeping columns; a stream source's table
also keeps each message's place in its topic.

``_airbyte_meta`` says what landing changed in a record: nothing (``CLEAN_META``), or the
fields it nulled and why (``nulled_meta``), in Airbyte's own shape, so the gate reads one
shape whatever the source.

Standard library only: the CDK runner imports it in the connector's own virtualenv.
"""

from __future__ import annotations

import json
from typing import NamedTuple


class Column(NamedTuple):
    type: str  # PostgreSQL's
    description: str


AIRBYTE_COLUMNS = {
    "_airbyte_raw_id": Column("varchar", "Airbyte's id of the landed record."),
    "_airbyte_extracted_at": Column(
        "timestamp", "When the record was extracted (UTC)."
    ),  # no zone: Airbyte's
    "_airbyte_meta": Column("json", "Airbyte's notes on the record (changes made while landing it)."),
}
RAW_ID, EXTRACTED_AT, META = AIRBYTE_COLUMNS
KAFKA_COLUMNS = {
    "_kafka_partition": Column("integer", "The topic partition the message was read from."),
    "_kafka_offset": Column("bigint", "The message's offset in its partition."),
    "_kafka_timestamp": Column("timestamptz", "The broker's timestamp of the message (the batch's cursor)."),
}
BOOKKEEPING_COLUMNS = (*AIRBYTE_COLUMNS, *KAFKA_COLUMNS)

CLEAN_META = json.dumps({"changes": [], "sync_id": None})  # landed as it came


def nulled(field: str, detail: str, reason: str = "DESTINATION_SERIALIZATION_ERROR") -> dict:
    """One change of ``_airbyte_meta``: ``field`` landed null, and why."""
    return {"field": field, "change": "NULLED", "reason": reason, "detail": detail}


def nulled_meta(changes: list[dict]) -> str:
    """``_airbyte_meta`` of a record whose fields were nulled (one change a field)."""
    return json.dumps({"changes": changes, "sync_id": None})


def bookkeeping_definitions(*, streamed: bool) -> list[str]:
    """The bookkeeping columns of a landing table the platform makes (a pushed or a stream
    source's), as SQL column definitions: every one required, the record's id its key."""
    columns = {**AIRBYTE_COLUMNS, **(KAFKA_COLUMNS if streamed else {})}
    return [
        f"{name} {column.type} {'primary key' if name == RAW_ID else 'not null'}"
        for name, column in columns.items()
    ]
