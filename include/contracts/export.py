"""Export the contracts as JSON Schema files (published in docs/contracts)."""

from __future__ import annotations

import json
from pathlib import Path

from liftoff_contracts import CONTRACTS, json_schema

CONTRACTS_DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def schema_text(name: str) -> str:
    return json.dumps(json_schema(CONTRACTS[name]), indent=2, sort_keys=True) + "\n"


def export_json_schemas(out: Path = CONTRACTS_DOCS_DIR) -> list[Path]:
    """Write ``<contract>.schema.json`` for every contract; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in sorted(CONTRACTS):
        path = out / f"{name}.schema.json"
        path.write_text(schema_text(name))
        paths.append(path)
    return paths
