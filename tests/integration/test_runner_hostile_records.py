"""A record the API sends that PostgreSQL cannot store never fails the connector runner's COPY.

A NUL (``\\u0000``) in a string, in a nested value or in a key; a lone UTF-16 surrogate;
NaN; nesting past what the gate's JSON parser reads; a value over the size bound: the record
lands, that field null and the reason in ``_airbyte_meta`` (the changes the Kafka landing
writes for a malformed message), and the rest of the day lands with it. A property test
feeds arbitrary JSON values to the runner's record-to-row path and COPY (a real PostgreSQL
table), then promotes and gates them: nothing ever fails.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from liftoff.batch import Batch, Interval
from liftoff.config import Settings, load_sources
from liftoff.ingest import cdk_runner
from liftoff.ingest.cdk_runner import StreamWriter
from liftoff.ingest.landing_layout import CLEAN_META
from liftoff.ingest.local import promote, sync_interval
from liftoff.stream.landing import _malformed_meta
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale

DAY = date(2026, 11, 20)
STAGING = "raw_crm__hostile"
FIELDS = ("sale_id", "seller_email", "product", "quantity", "amount", "sold_at", "updated_at")
# The CRM manifest's sales schema: loose strings and the whole record as JSON
SCHEMA = {
    "type": "object",
    "properties": {
        "_record": {"type": ["object", "null"]},
        **{name: {"type": ["string", "null"]} for name in FIELDS},
        "lines": {"type": ["array", "null"]},
    },
}
SALE = {
    "sale_id": "S1",
    "seller_email": "ana@liftoff.example",
    "product": "Starter Plan",
    "quantity": "2",
    "amount": "98.00",
    "sold_at": "2026-11-20T09:00:00Z",
    "updated_at": "2026-11-20T10:00:00Z",
}


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def land(conn, records: list[dict]) -> list[tuple]:
    """The records through the runner's writer into STAGING.sales: (values by column, meta)."""
    conn.execute(sql.SQL("create schema {}").format(sql.Identifier(STAGING)))
    writer = StreamWriter(conn, STAGING, "sales", SCHEMA)
    for record in records:
        writer.add(record, 1_795_000_000_000)
    writer.flush()
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in writer.fields)
    rows = conn.execute(
        sql.SQL("select {}, _airbyte_meta::text from {} order by _airbyte_raw_id").format(
            columns, sql.Identifier(STAGING, "sales")
        )
    ).fetchall()
    assert writer.count == len(records) == len(rows)
    return [(dict(zip(writer.fields, row[:-1], strict=True)), json.loads(row[-1])) for row in rows]


def nulled_fields(meta: dict) -> dict[str, str]:
    return {change["field"]: change["detail"] for change in meta.get("changes", [])}


def test_values_postgres_cannot_store_land_null_with_their_reason(
    bootstrapped: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cdk_runner, "MAX_VALUE_CHARS", 1000)
    cases = [
        ({}, {}),
        ({"product": "Starter\x00Plan"}, {"product": "NUL"}),
        ({"_record": {"notes": {"a": ["x\x00"]}}}, {"_record": "NUL"}),
        ({"_record": {"gift\x00wrap": True}}, {"_record": "a key holds a NUL"}),
        ({"seller_email": "ana\ud800@x.io"}, {"seller_email": "surrogate"}),
        ({"lines": [{"sku\udfff": 1}]}, {"lines": "a key holds a lone UTF-16 surrogate"}),
        ({"lines": [float("nan")], "quantity": float("inf")}, {"lines": "not JSON", "quantity": "not JSON"}),
        ({"lines": nested(5000)}, {"lines": "too deep"}),
        ({"lines": nested(cdk_runner.MAX_DEPTH + 1)}, {"lines": f"deeper than {cdk_runner.MAX_DEPTH}"}),
        ({"lines": nested(cdk_runner.MAX_DEPTH)}, {}),
        ({"product": "x" * 1001, "lines": ["y" * 1000]}, {"product": "longer than", "lines": "longer than"}),
        ({"product": "C:\\u0000 is no NUL", "lines": ["\\u0000"]}, {}),  # a backslash is text
        ({"product": "Plan \U0001f680 ✓", "lines": [{"ключ": "\U0001f680"}]}, {}),  # pairs, not lone
    ]
    records = [{**SALE, "sale_id": f"S{n:02d}", **values} for n, (values, _) in enumerate(cases)]
    with bootstrapped.connect() as conn:
        landed = land(conn, records)
    for (values, expected), record, (row, meta) in zip(cases, records, landed, strict=True):
        problems = nulled_fields(meta)
        assert problems.keys() == expected.keys(), (values, meta)
        for name, words in expected.items():
            assert words in problems[name] and row[name] is None
            assert {
                "field": name,
                "change": "NULLED",
                "reason": "DESTINATION_SERIALIZATION_ERROR",
            }.items() <= next(change.items() for change in meta["changes"] if change["field"] == name)
        for name in set(record) - set(expected):
            value = record[name]
            assert row[name] == (
                value if isinstance(value, str) and name in FIELDS else json.loads(json.dumps(value))
            )
        assert meta == (json.loads(CLEAN_META) if not expected else meta), "a clean row's meta: no changes"


def test_the_reason_is_recorded_the_way_the_kafka_landing_records_it() -> None:
    kafka = json.loads(_malformed_meta("not JSON"))
    ours = json.loads(cdk_runner.nulled_meta([cdk_runner.nulled("product", "holds a NUL")]))
    assert ours.keys() == kafka.keys() and ours["sync_id"] is None
    assert ours["changes"][0].keys() == kafka["changes"][0].keys()
    assert ours["changes"][0]["change"] == kafka["changes"][0]["change"] == "NULLED"


# JSON values as an API's JSON parser gives them: NaN, Infinity and lone surrogates included
strings = st.text(
    st.characters(codec=None, categories=None, exclude_categories=()), max_size=12
) | st.sampled_from(["\x00", "a\x00b", "\ud800", "\\u0000", "\U0001f680"])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | strings
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=20,
)
records = st.fixed_dictionaries({}, optional={name: json_values for name in (*FIELDS, "lines", "extra")}).map(
    lambda record: {**record, "_record": dict(record)}
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(batch=st.lists(records, min_size=1, max_size=6))
def test_arbitrary_json_records_never_fail_the_copy_nor_the_gate(
    bootstrapped: Warehouse, batch: list[dict]
) -> None:
    crm = load_sources()["crm"]
    sales = Batch.of("crm", "sales", crm.streams["sales"], Interval.for_day(DAY))
    with bootstrapped.connect() as conn, conn.transaction(force_rollback=True):
        landed = land(conn, batch)
        for record, (row, meta) in zip(batch, landed, strict=True):
            problems = nulled_fields(meta)
            for name, value in row.items():
                sent = record.get(name)
                if name in problems or sent is None:
                    assert value is None
                elif name in FIELDS:  # text columns: a string as sent, anything else its JSON
                    assert value == (sent if isinstance(sent, str) else json.dumps(sent))
                else:
                    assert json.dumps(value) == json.dumps(json.loads(json.dumps(sent)))
        assert promote(conn, sales, STAGING) == len(batch)
        result = validate_batch(conn, sales, Sale, max_reject_ratio=1.0)
        assert result.landed == len(batch) == result.accepted + result.rejected


def test_a_poisoned_record_from_the_api_lands_and_the_rest_of_the_day_with_it(
    bootstrapped: Warehouse, api_server_factory, liftoff_home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real runner: the demo API's first sales carry a NUL in `product`, a NUL in
    a key of an undeclared field (landing's `_record`), nesting 100 deep."""
    server = api_server_factory(poison_records=3)
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    crm = load_sources()["crm"]
    crm = crm.model_copy(update={"streams": {"sales": crm.streams["sales"]}})
    sales = Batch.of("crm", "sales", crm.streams["sales"], Interval.for_day(DAY))
    landed = sync_interval("crm", crm, Interval.for_day(DAY), bootstrapped, Settings(home=liftoff_home))
    with bootstrapped.connect() as conn:
        rows = conn.execute(
            "select sale_id, product, _record is null, _airbyte_meta::text from raw_crm.sales"
        ).fetchall()
        assert landed == {"sales": len(rows)} and len(rows) > 3
        hit = {
            sale_id: (product, no_record, nulled_fields(json.loads(meta)))
            for sale_id, product, no_record, meta in rows
            if meta != CLEAN_META
        }
        assert len(hit) == 3
        assert sorted(tuple(sorted(fields)) for _, _, fields in hit.values()) == [
            ("_record",),
            ("_record",),
            ("_record", "product"),
        ]
        assert all(no_record for _, no_record, _ in hit.values())
        [poisoned_product] = [sale_id for sale_id, (product, _, fields) in hit.items() if "product" in fields]
        result = validate_batch(conn, sales, Sale, max_reject_ratio=1.0)
        assert result.landed == len(rows) == result.accepted + result.rejected
        quarantined = dict(
            conn.execute(
                "select row_data->>'sale_id', errors from audit.quarantine where batch_id = %s",
                (sales.batch_id,),
            ).fetchall()
        )
        assert "product" in {error["field"] for error in quarantined[poisoned_product]}
        # a contract field landing changed quarantines its record with the reason; a change to
        # what the contract does not judge (undeclared fields, `_record`) stays a note in the meta
        assert set(quarantined) == {poisoned_product} and result.rejected == 1
        nulled = [e for e in quarantined[poisoned_product] if e["type"] == "nulled_while_landing"]
        assert [e["field"] for e in nulled] == ["product"]
        assert nulled[0]["message"].startswith("nulled while landing: ")
