"""LiftOff data contracts: one Pydantic module per entity, each versioned.

The same contracts gate landed batches (plugins/liftoff/validate), the entry app's form
and the ``liftoff validate`` command. A contract is a model (one record, a form) and,
through :func:`row_schema`, a TypedDict with the very same field rules for validating
many rows at once in pydantic-core.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, TypeAdapter
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


@cache
def row_schema(contract: type[BaseModel]) -> type:
    """A TypedDict with the contract's fields and rules: validates rows without building models."""
    fields = {}
    for name, info in contract.model_fields.items():
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
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
    "contract_version",
    "error_message",
    "get_contract",
    "json_schema",
    "row_schema",
    "rows_adapter",
]
