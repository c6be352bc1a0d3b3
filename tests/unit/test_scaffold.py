"""A stream's discovered JSON schema scaffolds its contract, bronze model template and bronze docs.

The contract is written to a folder, imported the way ``liftoff_contracts`` discovers its
contracts, and judged both ways the project judges rows: one record through the model, and
landed rows (keyed by Airbyte's column names, as JSON the way PostgreSQL renders them)
through ``row_schema`` and the gate's own ``validate_json_rows``.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

import liftoff_contracts
from liftoff.config import DBT_PROJECT_DIR, ConfigError, StreamConfig
from liftoff.derive import LINEAGE_COLUMNS, Stream, bronze_docs, bronze_model
from liftoff.ingest.scaffold import (
    Scaffold,
    class_name_of,
    field_names,
    is_field_name,
    scaffold_stream,
    write_scaffold,
)
from liftoff.validate.gate import validate_json_rows
from liftoff_contracts import contract_columns, json_schema, row_schema, rows_adapter

REPO = Path(__file__).resolve().parents[2]
LINEAGE = ["source", "batch_id", "airbyte_raw_id", "extracted_at", "batch_interval_start"]
AWARE = {"type": ["null", "string"], "format": "date-time", "airbyte_type": "timestamp_with_timezone"}

# Airbyte's faker source, `purchases` (its ids as Airbyte's number-integers and plain integers).
PURCHASES = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "id": {"type": "integer"},
        "user_id": {"type": "number", "airbyte_type": "integer"},
        "product_id": {"type": ["null", "integer"]},
        "created_at": AWARE,
        "updated_at": AWARE,
        "added_to_cart_at": AWARE,
        "purchased_at": AWARE,
        "returned_at": AWARE,
    },
}
# Airbyte's faker source, `users`: a nested object, and two arrays.
USERS = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "created_at": AWARE,
        "updated_at": AWARE,
        "name": {"type": ["null", "string"], "description": "Full name."},
        "title": {"type": ["null", "string"]},
        "age": {"type": ["null", "integer"]},
        "email": {"type": ["null", "string"], "title": "Email address"},
        "height": {"type": ["null", "string"]},
        "weight": {"type": ["null", "integer"]},
        "address": {
            "type": ["null", "object"],
            "properties": {
                "street_number": {"type": ["null", "string"]},
                "city": {"type": ["null", "string"]},
                "postal_code": {"type": ["null", "string"]},
            },
        },
        "interests": {"type": ["null", "array"], "items": {"type": "string"}},
        "orders": {"type": ["null", "array"], "items": {"type": "object"}},
    },
}
# An S3 CSV stream (the file-based source adds its file's time and URL), with names that are
# no Python field: a space, a keyword, a leading underscore; a `date` column, which hides the
# `date` type in a class body; a naive and an aware date-time, a number, a union.
S3_SALES = {
    "type": "object",
    "properties": {
        "Order ID": {"type": "string"},
        "First Name": {"type": ["null", "string"]},
        "class": {"type": ["null", "string"]},
        "Date": {"type": ["null", "string"], "format": "date"},
        "Signed Up": {
            "type": ["null", "string"],
            "format": "date-time",
            "airbyte_type": "timestamp_without_timezone",
        },
        "Uploaded At": {"type": ["null", "string"], "format": "date-time"},
        "Amount": {"type": ["null", "number"]},
        "Notes": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "_ab_source_file_last_modified": {"type": "string"},
        "_ab_source_file_url": {"type": "string"},
    },
}


def purchases() -> Scaffold:
    return scaffold_stream(
        "faker_purchases",
        PURCHASES,
        primary_key=["id"],
        cursor_field="updated_at",
        description="A purchase of a product by a user.",
        stream="purchases",
    )


def users() -> Scaffold:
    return scaffold_stream(
        "faker_users", USERS, primary_key=["id"], cursor_field=None, description="A user of the shop."
    )


def s3_sales() -> Scaffold:
    return scaffold_stream(
        "s3_sales",
        S3_SALES,
        primary_key=["Order ID"],
        cursor_field="_ab_source_file_last_modified",
        description="A sale, one line of the shop's daily CSV export.",
        stream="sales",
    )


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Scaffold], type[BaseModel]]]:
    """Write a scaffold under tmp_path/include and import its contract as liftoff_contracts does."""
    include = tmp_path / "include"
    monkeypatch.setattr(
        liftoff_contracts, "__path__", [*liftoff_contracts.__path__, str(include / "contracts")]
    )
    loaded: list[str] = []

    def _load(scaffold: Scaffold) -> type[BaseModel]:
        write_scaffold(scaffold, include)
        importlib.invalidate_caches()
        loaded.append(f"liftoff_contracts.{scaffold.contract}")
        contracts = liftoff_contracts._discover()  # one versioned model per module, or ImportError
        model = contracts[scaffold.contract]
        assert model.__name__ == scaffold.class_name
        return model

    yield _load
    for name in loaded:
        sys.modules.pop(name, None)


def judged(model: type[BaseModel], rows: list[dict]) -> dict[int, list[str]]:
    """The gate's verdict on landed rows (JSON, as PostgreSQL renders them): fields in error by row."""
    found = validate_json_rows(rows_adapter(model), [json.dumps(row) for row in rows])
    return {index: [error["field"] for error in errors] for index, errors in found.items()}


def test_a_faker_purchase_passes_and_its_keys_and_types_are_required(load) -> None:
    scaffold = purchases()
    assert "discovered JSON schema of the ``purchases`` stream: a draft to review" in " ".join(
        scaffold.contract_source.split()
    )
    model = load(scaffold)
    good = {
        "id": 1,
        "user_id": 7.000000000,  # landing's numeric(38, 9), as row_to_json writes it
        "product_id": None,
        "created_at": "2024-05-01T09:00:00+02:00",
        "updated_at": "2024-05-01T10:00:00+00",  # PostgreSQL's hour-only offset
        "purchased_at": None,
    }
    record = model.model_validate(good)
    assert record.user_id == 7 and record.product_id is None and record.returned_at is None
    assert record.updated_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    rows = TypeAdapter(list[row_schema(model)]).validate_python([good])
    assert rows[0]["id"] == 1 and rows[0]["created_at"].utcoffset().total_seconds() == 7200

    missing_key = {k: v for k, v in good.items() if k != "id"}
    missing_cursor = {k: v for k, v in good.items() if k != "updated_at"}
    null_cursor = {**good, "updated_at": None}
    not_an_integer = {**good, "id": "abc"}
    naive = {**good, "updated_at": "2024-05-01T10:00:00"}
    assert judged(model, [good, missing_key, missing_cursor, null_cursor, not_an_integer, naive]) == {
        1: ["id"],
        2: ["updated_at"],
        3: ["updated_at"],
        4: ["id"],
        5: ["updated_at"],
    }
    for bad in (missing_key, missing_cursor, not_an_integer, naive):
        with pytest.raises(ValidationError):
            model.model_validate(bad)
    assert set(model.model_fields) == set(PURCHASES["properties"])
    assert [name for name, info in model.model_fields.items() if info.is_required()] == ["id", "updated_at"]


def test_a_faker_user_keeps_its_address_as_an_object_and_types_simple_arrays(load) -> None:
    model = load(users())
    good = {
        "id": 3,
        "updated_at": "2024-05-01T10:00:00Z",
        "name": "Ann",
        "address": {"street_number": "12", "city": "Lyon", "extra": [1]},
        "interests": ["tea"],
        "orders": [{"id": 1}, {"id": 2, "lines": []}],
    }
    assert model.model_validate(good).address["city"] == "Lyon"
    assert model.model_fields["name"].description == "Full name."
    assert model.model_fields["email"].description == "Email address."
    assert judged(
        model,
        [
            good,
            {"id": 3},  # a full-refresh stream: no cursor, only the key is required
            {**good, "address": "12 rue Neuve"},
            {**good, "interests": [1]},
            {**good, "age": "old"},
        ],
    ) == {2: ["address"], 3: ["interests.0"], 4: ["age"]}


def test_s3_names_become_landing_columns_and_every_column_is_judged(load) -> None:
    scaffold = s3_sales()
    model = load(scaffold)
    module = sys.modules["liftoff_contracts.s3_sales"]
    assert list(model.model_fields) == [
        "order_id",
        "first_name",
        "class_",
        "date",
        "signed_up",
        "uploaded_at",
        "amount",
        "notes",
        "ab_source_file_last_modified",
        "ab_source_file_url",
    ]
    assert list(contract_columns(model)) == [
        "order_id",
        "first_name",
        "class",
        "date",
        "signed_up",
        "uploaded_at",
        "amount",
        "notes",
        "_ab_source_file_last_modified",
        "_ab_source_file_url",
    ]
    assert not hasattr(module, "UNJUDGED_COLUMNS"), "no column is left out"
    assert model.model_fields["class_"].alias == "class"
    landed = {  # keyed as the landing table's columns are
        "order_id": "S-1",
        "first_name": "Ann",
        "class": "gold",
        "date": "2024-05-01",
        "signed_up": "2024-05-01T10:00:00",  # no zone, as the source declares
        "uploaded_at": "2024-05-01T10:00:00+00:00",
        "amount": 12.5,
        "notes": None,
        "_ab_source_file_last_modified": "2024-05-02T00:00:00.000000Z",
        "_ab_source_file_url": "s3://shop/2024-05-01.csv",
    }
    record = model.model_validate(landed)
    assert record.signed_up.tzinfo is None and record.amount == Decimal("12.5")
    assert record.class_ == "gold" and record.ab_source_file_url == "s3://shop/2024-05-01.csv"
    assert model.model_fields["amount"].annotation == Decimal | None, "exact, as landing's numeric"
    assert str(record.date) == "2024-05-01"
    assert (
        record.model_dump(by_alias=True, mode="json")["_ab_source_file_url"] == landed["_ab_source_file_url"]
    )
    rows = TypeAdapter(list[row_schema(model)]).validate_python([landed])
    assert rows[0]["first_name"] == "Ann" and rows[0]["class"] == "gold"
    assert rows[0]["_ab_source_file_url"] == "s3://shop/2024-05-01.csv"
    assert judged(
        model,
        [
            landed,
            {**landed, "signed_up": "2024-05-01T10:00:00+02:00"},  # a zone is no error either
            {**landed, "uploaded_at": "2024-05-01T10:00:00"},  # a date-time without airbyte_type is aware
            {**landed, "amount": "abc"},
            {**landed, "order_id": "   "},  # a string key is stripped, not empty
            {**landed, "date": "yesterday"},
            {k: v for k, v in landed.items() if k != "_ab_source_file_last_modified"},  # the cursor
            {**landed, "class": 7, "_ab_source_file_url": ["s3://a", "s3://b"]},
        ],
    ) == {
        2: ["uploaded_at"],
        3: ["amount"],
        4: ["order_id"],
        5: ["date"],
        6: ["_ab_source_file_last_modified"],
        7: ["class", "_ab_source_file_url"],
    }


# Names no Python field can bear, among them the primary key; and a column already named as
# the field another would get.
ODD = {
    "type": "object",
    "properties": {
        "_id": {"type": "string"},
        "class": {"type": ["null", "string"]},
        "2FA": {"type": ["null", "boolean"]},
        "_ab_source_file_url": {"type": "string"},
        "ab_source_file_url": {"type": ["null", "integer"]},
        "model_config": {"type": ["null", "string"]},
        "_date": {"type": ["null", "string"], "format": "date"},
        "updated_at": AWARE,
    },
}


def odd() -> Scaffold:
    return scaffold_stream(
        "odd_rows", ODD, primary_key=["_id"], cursor_field="updated_at", description="An odd row."
    )


def test_a_column_no_field_can_bear_is_a_field_aliased_to_it(load) -> None:
    model = load(odd())
    fields = {name: info.alias for name, info in model.model_fields.items()}
    assert fields == {
        "id": "_id",
        "class_": "class",
        "f_2fa": "2fa",
        "ab_source_file_url_": "_ab_source_file_url",  # the column `ab_source_file_url` has its name
        "ab_source_file_url": None,
        "f_model_config": "model_config",
        "date": "_date",  # a field named `date` hides the type: the annotation uses `Date`
        "updated_at": None,
    }
    assert list(contract_columns(model)) == [
        "_id",
        "class",
        "2fa",  # Airbyte's column is lower case
        "_ab_source_file_url",
        "ab_source_file_url",
        "model_config",
        "_date",
        "updated_at",
    ]
    assert [c for c, info in contract_columns(model).items() if info.is_required()] == ["_id", "updated_at"]
    assert list(json_schema(model)["properties"]) == list(contract_columns(model))
    good = {
        "_id": "r-1",
        "class": "gold",
        "2fa": True,
        "_ab_source_file_url": "s3://a.csv",
        "ab_source_file_url": 3,
        "model_config": "x",
        "_date": "2024-05-01",
        "updated_at": "2024-05-01T10:00:00Z",
    }
    record = model.model_validate(good)
    assert (record.id, record.class_, record.f_2fa, record.ab_source_file_url_) == (
        "r-1",
        "gold",
        True,
        "s3://a.csv",
    )
    assert str(record.date) == "2024-05-01" and record.ab_source_file_url == 3
    rows = rows_adapter(model).validate_json(json.dumps([good]))
    assert rows[0]["_id"] == "r-1" and rows[0]["2fa"] is True and str(rows[0]["_date"]) == "2024-05-01"
    by_name = {"id": "r-1", "class_": 7, "f_2fa": "maybe", "updated_at": "2024-05-01T10:00:00Z"}
    assert judged(
        model,
        [
            good,
            {**good, "2fa": "maybe"},
            {**good, "class": {"a": 1}, "_date": "someday"},
            {k: v for k, v in good.items() if k != "_id"},
            {**good, "_id": "  "},
            by_name,  # a row keyed by field names lacks the key's column
        ],
    ) == {1: ["2fa"], 2: ["class", "_date"], 3: ["_id"], 4: ["_id"], 5: ["_id"]}
    with pytest.raises(ValidationError, match="2fa"):
        model.model_validate({**good, "2fa": "maybe"})


def test_field_names_are_python_names_and_free() -> None:
    assert field_names(["class", "class_", "_", "__", "2fa", "model_dump_json", "match", "type"]) == {
        "class": "class__",  # `class_` is another column's
        "class_": "class_",
        "_": "f",
        "__": "f_",
        "2fa": "f_2fa",
        "model_dump_json": "f_model_dump_json",
        "match": "match",  # soft keywords are names
        "type": "type",
    }
    assert not any(is_field_name(name) for name in ("_ab_source_file_url", "class", "2fa", "model_config"))
    assert not is_field_name("model_dump_rows"), "pydantic warns of its protected namespace"
    assert all(is_field_name(name) for name in ("first_name", "match", "type", "model_id"))


def test_the_generated_module_passes_ruff(tmp_path: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.is_file():
        pytest.skip("ruff is not installed in this environment")
    long_text = "A very long description of the field, " * 6 + 'with "quotes", a \\ and {{ braces }}.'
    schema = {
        "type": "object",
        "properties": {
            **S3_SALES["properties"],
            "int": {"type": "integer"},
            "text": {"type": "string", "description": long_text},
            "a_property_with_a_rather_long_name_indeed": {
                "type": ["null", "object"],
                "description": long_text,
            },
        },
    }
    written = []
    for scaffold in (
        purchases(),
        users(),
        s3_sales(),
        odd(),
        scaffold_stream("wide", schema, primary_key=["text"], cursor_field=None, description=long_text),
    ):
        written += [path for path in write_scaffold(scaffold, tmp_path / "include") if path.suffix == ".py"]
    config = ["--config", str(REPO / "pyproject.toml"), "--no-cache"]
    paths = [str(path) for path in written]
    check = subprocess.run([ruff, "check", *config, *paths], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    formatted = subprocess.run(
        [ruff, "format", "--check", "--diff", *config, *paths], capture_output=True, text=True
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


# The shared bronze macros (macros/bronze/batch.sql) standing in for themselves: what each was given.
STUB_MACROS = (
    "{% macro bronze_config(sync, unique_columns) %}config {{ sync }} {{ unique_columns | join(',') }}"
    "{% endmacro %}"
    "{% macro validated_batch(source_name, stream) %}batch {{ source_name }}.{{ stream }}{% endmacro %}"
    "{% macro accepted_rows(source_name, stream, cursor_field) %}"
    "accepted {{ source_name }}.{{ stream }} {{ cursor_field }}{% endmacro %}"
    "{% macro lineage_columns(source_name) %}lineage {{ source_name }}{% endmacro %}"
)


def render_model(scaffold: Scaffold, tmp_path: Path, source: str, stream: str, cursor: str | None) -> str:
    """The model liftoff derive writes from the scaffolded template, dbt's Jinja rendered with the
    shared macros stubbed (``config incremental airbyte_raw_id``, ``batch shop.sales``, ...)."""
    include = tmp_path / f"{source}_{stream}"
    write_scaffold(scaffold, include)
    sync = "incremental" if cursor else "full_refresh"
    config = StreamConfig(contract=scaffold.contract, sync=sync, cursor_field=cursor, primary_key="id")
    model = bronze_model(Stream(source, stream, config, SimpleNamespace(description="")), include / "dbt")
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(STUB_MACROS + model).render()


def selected(model: str) -> list[str]:
    """The rendered model's select list, one item a line, the lineage's stand-in last."""
    select = model.split("\nselect\n", 1)[1].split("\nfrom accepted\n", 1)[0]
    return [line.strip().rstrip(",") for line in select.splitlines()]


def test_the_bronze_model_casts_each_column_once(tmp_path: Path) -> None:
    model = render_model(s3_sales(), tmp_path, "shop", "sales", "_ab_source_file_last_modified")
    assert "config incremental airbyte_raw_id" in model
    assert "batch shop.sales" in model and "accepted shop.sales _ab_source_file_last_modified" in model
    assert selected(model) == [
        "accepted.order_id::text as order_id",
        "accepted.first_name::text as first_name",
        "accepted.class::text as class",
        "accepted.date::date as date",
        "accepted.signed_up::timestamp as signed_up",
        "accepted.uploaded_at::timestamptz as uploaded_at",
        "accepted.amount::numeric as amount",
        "(accepted.notes #>> '{}')::text as notes",  # a union lands as json
        "accepted._ab_source_file_last_modified::text as _ab_source_file_last_modified",
        "accepted._ab_source_file_url::text as _ab_source_file_url",
        "lineage shop",
    ]
    model = render_model(users(), tmp_path, "faker", "users", None)
    assert "config full_refresh airbyte_raw_id" in model and "accepted faker.users None" in model
    lines = selected(model)
    assert len(lines) == len(USERS["properties"]) + 1 and lines[-1] == "lineage faker"
    assert "accepted.address::jsonb as address" in lines
    assert "accepted.interests::jsonb as interests" in lines
    assert "accepted.id::bigint as id" in lines


def _skeleton(template: str) -> list[str]:
    """A model template less its comments and typed columns: what every contract's shares."""
    text = re.sub(r"\[#.*?#\]\n?|\{#.*?#\}\n?", "", template, flags=re.DOTALL)
    return [line for line in text.splitlines() if not re.match(r"    [^ {].* as \w+,$", line)]


def test_the_scaffolded_template_is_shaped_as_the_hand_written_ones() -> None:
    sale = (DBT_PROJECT_DIR / "macros" / "bronze" / "sale.sql.j2").read_text()
    assert _skeleton(users().bronze_sql) == _skeleton(sale)
    assert "{% call" not in users().bronze_sql and "caller()" not in users().bronze_sql
    first = users().bronze_sql.splitlines()[0]
    assert first.startswith("[#- The bronze model of every stream under the `FakerUser` contract")


def test_a_description_ends_no_comment_and_opens_no_hole(tmp_path: Path) -> None:
    scaffold = scaffold_stream(
        "tricky",
        {"type": "object", "properties": {"id": {"type": "integer"}}},
        primary_key=["id"],
        cursor_field=None,
        description="Ends #} a comment, [[ opens ]] a hole, [% a block %], [# a note #].",
    )
    model = render_model(scaffold, tmp_path, "x", "tricky", None)
    assert selected(model) == ["accepted.id::bigint as id", "lineage x"]
    assert "[[ opens ]]" not in model and "a comment" not in model, "the note stays one dbt comment"


def test_sql_names_that_need_it_are_quoted_and_lineage_names_renamed(tmp_path: Path) -> None:
    scaffold = scaffold_stream(
        "odd_names",
        {
            "type": "object",
            "properties": {
                "order": {"type": "integer"},
                "2fa": {"type": "boolean"},
                "source": {"type": "string"},
                "on": {"type": "string"},
            },
        },
        primary_key=["order"],
        cursor_field=None,
        description="Odd names.",
    )
    assert selected(render_model(scaffold, tmp_path, "x", "odd", None)) == [
        'accepted."order"::bigint as "order"',
        'accepted."2fa"::boolean as "2fa"',
        "accepted.source::text as record_source",
        'accepted."on"::text as "on"',
        "lineage x",
    ]
    docs = render_docs(scaffold)
    columns = {c["name"]: c for c in docs["models"][0]["columns"]}
    assert list(columns) == ["order", "2fa", "record_source", "on"]
    assert columns["order"]["quote"] is True and "quote" not in columns["record_source"]


def render_docs(scaffold: Scaffold, lineage_columns: str = "") -> dict:
    """The docs template rendered with the variables liftoff derive passes, parsed."""
    text = jinja2.Template(scaffold.bronze_yml, undefined=jinja2.StrictUndefined).render(
        model="m",
        source="s",
        stream="t",
        tag="contract_x",
        source_description="",
        sync_description="",
        lineage_columns=lineage_columns,
    )
    return yaml.safe_load(text)


def bronze_yml(scaffold: Scaffold, include: Path, stream: str, cursor_field: str | None) -> dict:
    """The bronze docs liftoff derive renders from the written template, parsed."""
    write_scaffold(scaffold, include)
    sync = "incremental" if cursor_field else "full_refresh"
    config = StreamConfig(contract=scaffold.contract, sync=sync, cursor_field=cursor_field, primary_key="id")
    text = bronze_docs(
        Stream("faker", stream, config, SimpleNamespace(description="Airbyte's sample data.")),
        include / "dbt",
    )
    return yaml.safe_load(text)


def test_the_docs_template_renders_as_derive_renders_it(tmp_path: Path) -> None:
    docs = bronze_yml(purchases(), tmp_path / "a", "purchases", "updated_at")
    (model,) = docs["models"]
    assert model["name"] == "bronze_faker_purchases"
    assert model["config"]["tags"] == ["contract_faker_purchases"]
    assert "`faker.purchases`" in model["description"] and "Incremental" in model["description"]
    columns = {c["name"]: c.get("data_tests", []) for c in model["columns"]}
    assert list(columns) == [*PURCHASES["properties"], *LINEAGE]
    # incremental: a purchase lands again when it changes, so its id is not unique in bronze
    assert columns["id"] == ["not_null"] and columns["updated_at"] == ["not_null"]
    assert columns["returned_at"] == []

    docs = bronze_yml(users(), tmp_path / "b", "users", None)
    columns = {c["name"]: c.get("data_tests", []) for c in docs["models"][0]["columns"]}
    assert columns["id"] == ["unique", "not_null"], "a full snapshot holds each user once"
    assert list(columns)[: len(USERS["properties"])] == list(USERS["properties"])

    docs = bronze_yml(s3_sales(), tmp_path / "c", "sales", "_ab_source_file_last_modified")
    columns = {c["name"]: c for c in docs["models"][0]["columns"]}
    assert columns["_ab_source_file_last_modified"]["data_tests"] == ["not_null"]
    assert columns["class"]["description"] == "`class` as the source sends it."
    assert columns["_ab_source_file_url"].get("data_tests") is None


def test_a_composite_key_of_a_snapshot_is_unique_as_a_combination() -> None:
    scaffold = scaffold_stream(
        "order_lines",
        {"type": "object", "properties": {"order_id": {"type": "string"}, "line": {"type": "integer"}}},
        primary_key=["order_id", "line"],
        cursor_field=None,
        description="One line of an order.",
    )
    (model,) = render_docs(scaffold, LINEAGE_COLUMNS.format(source="s"))["models"]
    assert model["data_tests"] == [{"unique_combination": {"arguments": {"columns": ["order_id", "line"]}}}]
    assert [c.get("data_tests") for c in model["columns"][:2]] == [["not_null"], ["not_null"]]


def test_descriptions_survive_quotes_braces_and_length(load) -> None:
    text = 'The "buyer" {{ name }} ' + "and more words " * 12 + "end"
    scaffold = scaffold_stream(
        "notes",
        {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "who": {"type": "string", "description": text}},
        },
        primary_key=["id"],
        cursor_field=None,
        description="A note.",
    )
    model = load(scaffold)
    expected = text.replace('"', "'") + "."  # one quoting style; a sentence ends
    assert model.model_fields["who"].description == expected
    assert render_docs(scaffold)["models"][0]["columns"][1]["description"] == expected


def test_write_scaffold_refuses_to_overwrite(tmp_path: Path) -> None:
    include = tmp_path / "include"
    paths = write_scaffold(purchases(), include)
    assert paths == [
        include / "contracts" / "faker_purchases.py",
        include / "dbt" / "macros" / "bronze" / "faker_purchases.sql.j2",
        include / "dbt" / "macros" / "bronze" / "faker_purchases.yml.j2",
    ]
    paths[1].write_text("-- reviewed\n")
    with pytest.raises(ConfigError) as refused:
        write_scaffold(purchases(), include)
    message = str(refused.value)
    assert "\n" not in message and str(paths[0]) in message
    assert paths[1].read_text() == "-- reviewed\n", "nothing written when one file exists"
    assert write_scaffold(purchases(), include, overwrite=True) == paths
    assert paths[1].read_text() == purchases().bronze_sql


def test_names_and_refusals() -> None:
    assert class_name_of("faker_purchases") == "FakerPurchase"
    assert class_name_of("companies") == "Company"
    assert class_name_of("addresses") == "Address"
    assert class_name_of("status") == "Status"
    assert class_name_of("fields") == "FieldRecord", "would hide pydantic's Field"
    assert purchases().class_name == "FakerPurchase" and purchases().contract == "faker_purchases"
    assert (
        scaffold_stream(  # keys and cursor by property or by landing column
            "s3_sales", S3_SALES, primary_key=["order_id"], cursor_field="Signed Up", description="x"
        ).contract_source.count("= Field(description=")
        == 2
    )
    for contract, schema, key, cursor, reason in [
        ("Bad-Name", PURCHASES, ["id"], None, "contract name 'Bad-Name'"),
        ("types", PURCHASES, ["id"], None, "a module of the contracts package"),
        ("ok", PURCHASES, ["nope"], None, "primary key field 'nope' is not a property"),
        ("ok", PURCHASES, ["id"], "nope", "cursor field 'nope' is not a property"),
        ("ok", {"properties": {"A b": {}, "a_b": {}}}, [], None, "'A b' and 'a_b' both land as column 'a_b'"),
        ("ok", {"type": "object"}, [], None, "no properties"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(reason)):
            scaffold_stream(contract, schema, primary_key=key, cursor_field=cursor, description="x")
