"""``liftoff validate``: a file of rows checked against a contract, nothing written to the warehouse."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer

from liftoff.cli.common import console, err
from liftoff.config import StreamConfig, load_sources
from liftoff.validate.files import UnreadableFile, validate_file
from liftoff_contracts import CONTRACTS


class FileFormatChoice(enum.StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def first_stream_of(contract_name: str) -> StreamConfig | None:
    """The first stream in include/sources.yaml gated by this contract (its threshold, its key)."""
    for source in load_sources().values():
        for stream in source.streams.values():
            if stream.contract == contract_name:
                return stream
    return None


def validate_file_command(
    contract: Annotated[str, typer.Argument(help="Contract name: " + ", ".join(sorted(CONTRACTS)))],
    file: Annotated[Path, typer.Argument(help="A JSONL or CSV file of rows.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Write the rejected rows, with their errors, as JSONL.")
    ] = None,
    max_reject_ratio: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Allowed rejected share (default: the stream's).")
    ] = None,
    file_format: Annotated[
        FileFormatChoice | None, typer.Option("--format", help="Default: by extension.")
    ] = None,
) -> None:
    """Check a file against a contract. Exit 0 within the threshold, 1 over it, 2 if unreadable."""
    if contract not in CONTRACTS:
        err.print(f"[bold red]error:[/] unknown contract {contract!r}; known: {', '.join(sorted(CONTRACTS))}")
        raise typer.Exit(2)
    stream = first_stream_of(contract)
    default_threshold = stream.max_reject_ratio if stream else 0.0
    threshold = max_reject_ratio if max_reject_ratio is not None else default_threshold
    try:
        report = validate_file(
            file,
            contract,
            CONTRACTS[contract],
            rejects_path=rejects,
            file_format=file_format.value if file_format else None,
            derived_key=stream.primary_key if stream else None,  # a CSV may leave its key to the writer
        )
    except UnreadableFile as exc:
        if as_json:
            print(json.dumps({"contract": contract, "error": str(exc)}))
        else:
            err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report.as_json()))
    else:
        verdict = "[green]within[/]" if report.reject_ratio <= threshold else "[red]over[/]"
        console.print(
            f"{contract} v{report.version}: rows={report.rows} accepted={report.accepted} "
            f"rejected={report.rejected} ({report.reject_ratio:.1%}, {verdict} {threshold:.1%})"
        )
        for name, count in report.errors_by_field.most_common():
            console.print(f"  {name}: {count}")
    raise typer.Exit(0 if report.reject_ratio <= threshold else 1)
