"""The connector runner's mapping of the manifest's JSON schema to Airbyte's raw layout.

The runner runs in the connector's virtualenv; its module imports nothing but the standard
library at the top, so its pure parts are tested here.
"""

from __future__ import annotations

import uuid

from liftoff.ingest.cdk_runner import StreamWriter, column_name, column_type, new_id_prefix, text_of


def test_json_schema_types_map_to_airbytes_postgres_types() -> None:
    assert column_type({"type": ["string", "null"]}) == "varchar"
    assert column_type({"type": ["null", "string"], "format": "date-time"}) == "timestamptz"
    assert column_type({"type": "string", "format": "date"}) == "date"
    assert column_type({"type": ["integer", "null"]}) == "bigint"
    assert column_type({"type": "number"}) == "numeric(38, 9)"
    assert column_type({"type": "boolean"}) == "boolean"
    assert column_type({"type": ["object", "null"]}) == "json"
    assert column_type({"type": "array"}) == "json"
    assert column_type({"type": ["string", "integer"]}) == "json", "a union keeps its value whole"
    assert column_type({}) == "json"


def test_values_land_as_sent() -> None:
    assert text_of("49.00", json_column=False) == "49.00"
    assert text_of(None, json_column=False) is None
    assert text_of(12345678901234567890, json_column=False) == "12345678901234567890", "no float on the way"
    assert text_of({"sku": "P1"}, json_column=True) == '{"sku": "P1"}'
    assert text_of("plain", json_column=True) == '"plain"'
    assert column_name("Sale-ID") == "sale_id"


def test_raw_ids_are_unique_uuids_and_differ_between_runs() -> None:
    def ids(writer: StreamWriter, n: int) -> list[str]:
        out = []
        for _ in range(n):
            out.append(writer.raw_id())
            writer.rows.append(())
        return out

    first, second = StreamWriter.__new__(StreamWriter), StreamWriter.__new__(StreamWriter)
    for writer in (first, second):  # two runs' writers, each with its own draw (as __init__ makes it)
        writer.id_prefix, writer.rows, writer.count = new_id_prefix(), [], 0
    a, b = ids(first, 1000), ids(second, 10)
    assert len(set(a)) == 1000 and not set(a) & set(b)
    assert all(str(uuid.UUID(i)) == i for i in a + b)  # each a UUID's canonical text
