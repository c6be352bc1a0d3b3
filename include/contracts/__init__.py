"""LiftOff data contracts: one Pydantic module per entity, each versioned.

The same contracts gate landed batches (plugins/liftoff/validate), the entry app's form
and the ``liftoff validate`` command. A contract is a model (one record, a form) and,
through :func:`row_schema`, a TypedDict with the very same field rules for validating
many rows at once in pydantic-core.

A field judges the landing column of its alias when it has one (:func:`field_column`): a
column no Python name can bear (``class``, ``_ab_source_file_url``, ``2fa``) is a field
``class_: ... = Field(alias="class")``. Rows, the dbt sources and the gate all go by column.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.fields import FieldInfo
from typing_extensions import TypedDict

from liftoff_contracts.types import error_message

# Modules of this package that hold no contract.
_NOT_CONTRACTS = {"types", "export"}


def _discover() -> dict[str, type[BaseModel]]:
    """Every contract of this package: module ``<name>.py`` defines one versioned model.

    A contract is the model of its module that declares ``__version__`` (``sale.py``:
    ``Sale``); adding a contract is adding its module, no list to edit.
    """
    found: dict[str, type[BaseModel]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name in _NOT_CONTRACTS or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        versioned = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseModel)
            and value.__module__ == module.__name__
            and "__version__" in vars(value)
        ]
        if len(versioned) != 1:
            raise ImportError(
                f"contract module {module.__name__} must define exactly one model with __version__,"
                f" found {len(versioned)}"
            )
        found[module_info.name] = versioned[0]
    return dict(sorted(found.items()))


CONTRACTS: dict[str, type[BaseModel]] = _discover()
# `from liftoff_contracts import Sale`: each contract's model by its class name.
globals().update({model.__name__: model for model in CONTRACTS.values()})


def get_contract(name: str) -> type[BaseModel]:
    """The contract called ``name``; a KeyError names the known ones."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(sorted(CONTRACTS))}") from None


def contract_version(contract: type[BaseModel]) -> str:
    return str(contract.__version__)


def field_column(name: str, info: FieldInfo) -> str:
    """The column (a row's key) field ``name`` judges: its ``validation_alias`` when a plain
    string, else its ``alias``, else its name. The one rule: rows, landing tables, dbt sources
    and the gate's errors all name a field by it."""
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    return info.alias or name


def contract_columns(contract: type[BaseModel]) -> dict[str, FieldInfo]:
    """The contract's fields by the column each judges (:func:`field_column`), in field order;
    a TypeError when two fields judge one column (a row has one value per key)."""
    found: dict[str, FieldInfo] = {}
    names: dict[str, str] = {}
    for name, info in contract.model_fields.items():
        column = field_column(name, info)
        if column in found:
            raise TypeError(
                f"contract {contract.__name__}: fields {names[column]!r} and {name!r} both judge column"
                f" {column!r}"
            )
        found[column], names[column] = info, name
    return found


@cache
def row_schema(contract: type[BaseModel]) -> type:
    """A TypedDict with the contract's fields and rules, keyed by column (:func:`field_column`):
    validates rows without building models."""
    fields = {}
    for column, info in contract_columns(contract).items():
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[column] = annotation if info.is_required() else NotRequired[annotation]
    schema = TypedDict(f"{contract.__name__}Row", fields)
    schema.__pydantic_config__ = ConfigDict(extra="ignore")
    return schema


@cache
def rows_adapter(contract: type[BaseModel]) -> TypeAdapter:
    """Validates a list of rows (Python objects or a JSON array) in one pydantic-core call."""
    return TypeAdapter(list[row_schema(contract)])


def json_schema(contract: type[BaseModel]) -> dict:
    """The contract as JSON Schema, with its name and version."""
    schema = contract.model_json_schema()
    schema["$id"] = f"https://liftoff.dev/contracts/{contract.__name__.lower()}/{contract_version(contract)}"
    schema["version"] = contract_version(contract)
    return schema


__all__ = [
    "CONTRACTS",
    *(model.__name__ for model in CONTRACTS.values()),
    "contract_columns",
    "contract_version",
    "error_message",
    "field_column",
    "get_contract",
    "json_schema",
    "row_schema",
    "rows_adapter",
]
