"""LiftOff data contracts: one Pydantic module per entity, each versioned.

The same contracts gate landed batches (plugins/liftoff/validate), the entry app's form
and the ``liftoff validate`` command. A contract is a model (one record, a form) and,
through :func:`row_schema`, a TypedDict with the very same field rules for validating
many rows at once in pydantic-core.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, NotRequired

from pydantic import BaseModel, ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from liftoff_contracts.order import Order, OrderLine
from liftoff_contracts.product import Product
from liftoff_contracts.sale import Sale
from liftoff_contracts.seller import Seller
from liftoff_contracts.types import error_message

CONTRACTS: dict[str, type[BaseModel]] = {"sale": Sale, "seller": Seller, "product": Product, "order": Order}


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
    "Order",
    "OrderLine",
    "Product",
    "Sale",
    "Seller",
    "contract_version",
    "error_message",
    "get_contract",
    "json_schema",
    "row_schema",
    "rows_adapter",
]
