"""One definition of the rules: the model, the row schema and the published JSON Schema agree."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from liftoff.config import DBT_PROJECT_DIR, load_sources
from liftoff.validate.files import required_columns
from liftoff.validate.gate import judged_columns, validate_json_rows, validate_rows
from liftoff_contracts import (
    CONTRACTS,
    Product,
    Sale,
    Seller,
    contract_columns,
    field_column,
    row_schema,
    rows_adapter,
)
from liftoff_contracts.export import CONTRACTS_DOCS_DIR, schema_text

NOW = datetime(2026, 11, 21, tzinfo=UTC)

# Values of every shape the sources have sent or could send.
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "Infinity",
            "-0",
            "1e309",
            "'; drop table x; --",
            "2026-02-30T00:00:00Z",
            "2026-11-20T10:00:00Z",
            "a@b.co",
            "ü@ü.de",
            "12.345",
            "0.01",
            "99999.99",
            "100000.00",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
sale_like = st.fixed_dictionaries({}, optional={name: anything for name in Sale.model_fields})


def model_verdict(row: dict) -> set[str] | None:
    try:
        Sale.model_validate(row, context={"not_after": NOW})
    except ValidationError as exc:
        return {str(error["loc"][0]) for error in exc.errors()}
    return None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sale_like, max_size=20))
def test_row_schema_judges_exactly_like_the_model(rows: list[dict]) -> None:
    errors = validate_rows(rows_adapter(Sale), rows, {"not_after": NOW})
    for index, row in enumerate(rows):
        verdict = model_verdict(row)
        got = {error["field"].split(".")[0] for error in errors[index]} if index in errors else None
        assert got == verdict, row


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sale_like, max_size=20))
def test_malformed_rows_never_crash_and_are_conserved(rows: list[dict]) -> None:
    errors = validate_rows(rows_adapter(Sale), rows, {"not_after": NOW})
    assert set(errors) <= set(range(len(rows)))
    assert all(errors[i] and all({"field", "type", "message"} <= e.keys() for e in errors[i]) for i in errors)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(sale_like, max_size=20))
def test_json_path_judges_like_the_python_path(rows: list[dict]) -> None:
    """The gate validates PostgreSQL's JSON text; files are validated as parsed objects: same verdicts."""
    texts = [json.dumps(row) for row in rows]
    json_errors = validate_json_rows(rows_adapter(Sale), texts, {"not_after": NOW})
    python_errors = validate_rows(rows_adapter(Sale), [json.loads(t) for t in texts], {"not_after": NOW})
    assert set(json_errors) == set(python_errors)


def test_reference_contracts() -> None:
    seller = Seller.model_validate({"seller_id": "V01", "name": "Ana", "email": "Ana@X.CO"})
    assert seller.email == "ana@x.co"
    assert Product.model_validate({"product_id": "P1", "name": "Plan", "unit_price": "49.00"}).unit_price > 0
    with pytest.raises(ValidationError):
        Product.model_validate({"product_id": "P1", "name": "Plan", "unit_price": "-1"})


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_published_json_schema_is_current(name: str) -> None:
    published = CONTRACTS_DOCS_DIR / f"{name}.schema.json"
    assert published.is_file(), "run `liftoff contracts export`"
    assert published.read_text() == schema_text(name), (
        "docs/contracts is stale: run `liftoff contracts export`"
    )


def bronze_columns(model: str) -> dict[str, list]:
    path = next(Path(DBT_PROJECT_DIR, "models", "bronze").glob(f"{model}.yml"))
    spec = yaml.safe_load(path.read_text())["models"][0]
    return {column["name"]: column.get("data_tests", []) for column in spec["columns"]}


def bronze_fields(contract) -> dict[str, bool]:
    """The bronze columns a contract asks for, and whether each is required.

    A list of nested records (an order's lines) is flattened, one bronze row per element:
    the element's fields stand in for the list's.
    """
    fields = {}
    for column, info in contract_columns(contract).items():
        element = (typing.get_args(info.annotation) or (None,))[0]
        if (
            typing.get_origin(info.annotation) is list
            and isinstance(element, type)
            and issubclass(element, BaseModel)
        ):
            fields.update({c: i.is_required() for c, i in contract_columns(element).items()})
        else:
            fields[column] = info.is_required()
    return fields


@pytest.mark.parametrize(
    ("source", "stream"), [(s, t) for s, cfg in load_sources().items() for t in cfg.streams]
)
def test_bronze_models_match_their_contracts(source: str, stream: str) -> None:
    contract = CONTRACTS[load_sources()[source].streams[stream].contract]
    columns = bronze_columns(f"bronze_{source}_{stream}")
    fields = bronze_fields(contract)
    missing = set(fields) - set(columns)
    assert not missing, f"bronze_{source}_{stream} lacks contract fields {missing}"
    for name, required in fields.items():
        if required:
            assert "not_null" in columns[name], f"{name} is required by the contract: add a not_null test"


class Aliased(BaseModel):
    """Columns no Python name can bear, each judged under a field aliased to it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    record_id: str = Field(min_length=1, alias="_id")
    class_: typing.Annotated[str | None, Field(alias="class", max_length=5)] = None
    file_url: str | None = Field(None, validation_alias="_ab_source_file_url", alias="file")
    f_2fa: bool | None = Field(None, alias="2fa")
    either: int | None = Field(None, validation_alias=AliasChoices("a", "b"))
    plain: int | None = None


def test_a_field_judges_the_column_of_its_alias() -> None:
    columns = contract_columns(Aliased)
    assert list(columns) == ["_id", "class", "_ab_source_file_url", "2fa", "either", "plain"]
    assert columns["class"] is Aliased.model_fields["class_"]
    assert field_column("either", Aliased.model_fields["either"]) == "either", "not one column: the name"
    row = {"_id": "r1", "class": "gold", "_ab_source_file_url": "s3://a.csv", "2fa": True, "plain": 1}
    assert rows_adapter(Aliased).validate_python([row]) == [row]
    assert rows_adapter(Aliased).validate_json(json.dumps([row])) == [row]
    assert Aliased.model_validate(row).class_ == "gold", "the model reads the same columns"
    assert set(typing.get_type_hints(row_schema(Aliased))) == set(columns)
    rejected = validate_json_rows(
        rows_adapter(Aliased),
        [
            json.dumps(row),
            json.dumps({**row, "class": "platinum", "2fa": "maybe"}),
            json.dumps({k: v for k, v in row.items() if k != "_id"}),
            json.dumps({**row, "class_": "platinum", "record_id": ""}),  # field names are no columns
        ],
    )
    assert {index: [e["field"] for e in errors] for index, errors in rejected.items()} == {
        1: ["class", "2fa"],
        2: ["_id"],
    }
    assert judged_columns(Aliased) == {*columns, "_value"}, "landing's changes name columns"
    assert required_columns(Aliased, None) == ["_id"] and required_columns(Aliased, "_id") == []


def test_two_fields_may_not_judge_one_column() -> None:
    class Twice(BaseModel):
        class_: str = Field(alias="class")
        klass: str = Field(validation_alias="class")

    with pytest.raises(TypeError, match="fields 'class_' and 'klass' both judge column 'class'"):
        contract_columns(Twice)


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_the_project_contracts_judge_their_field_names(name: str) -> None:
    """No contract of the project aliases a field: its columns are its field names, as before."""
    contract = CONTRACTS[name]
    assert list(contract_columns(contract)) == list(contract.model_fields)
    assert set(typing.get_type_hints(row_schema(contract))) == set(contract.model_fields)
