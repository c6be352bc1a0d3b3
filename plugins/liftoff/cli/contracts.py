"""``liftoff contracts``: the data contracts, listed and exported as JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from liftoff.cli.common import console
from liftoff_contracts import CONTRACTS, contract_columns, contract_version
from liftoff_contracts.export import CONTRACTS_DOCS_DIR, export_json_schemas

contracts_app = typer.Typer(help="The data contracts.", no_args_is_help=True)


@contracts_app.command("list")
def contracts_list() -> None:
    """The contracts and their versions."""
    for name, model in sorted(CONTRACTS.items()):
        console.print(f"{name}  v{contract_version(model)}  {', '.join(contract_columns(model))}")


@contracts_app.command("export")
def contracts_export(
    out: Annotated[Path, typer.Option(help="Folder for <contract>.schema.json files.")] = CONTRACTS_DOCS_DIR,
) -> None:
    """Write each contract as JSON Schema (published in docs/contracts)."""
    for path in export_json_schemas(out):
        console.print(f"wrote {path}")
