"""LiftOff data contracts: one Pydantic module per entity, each versioned.

The same contracts gate landed batches (plugins/liftoff/validate), the entry app's form
and the ``liftoff validate`` command.
"""

from __future__ import annotations

from pydantic import BaseModel

from liftoff_contracts.sale import Sale

CONTRACTS: dict[str, type[BaseModel]] = {"sale": Sale}


def get_contract(name: str) -> type[BaseModel]:
    """The contract called ``name``; a KeyError names the known ones."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(sorted(CONTRACTS))}") from None


def contract_version(contract: type[BaseModel]) -> str:
    return str(contract.__version__)


__all__ = ["CONTRACTS", "Sale", "contract_version", "get_contract"]
