"""Validate a JSONL or CSV file against a contract, as ``liftoff validate`` does.

Every line is a row: a line that is not JSON, not an object, not UTF-8, too long, or a CSV
row with the wrong number of cells is a rejected row with its own error, never a crash.
Only a file that cannot be read as rows at all is an error, in one line: missing, a
directory, binary, empty, or a CSV whose header lacks a required column (the CSV reader is
the entry app's too: ``liftoff.validate.csv_file``). Memory stays flat: lines are read one
at a time, bounded, and rows validated in chunks.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel

from liftoff.validate.csv_file import CsvRefused, bounded_lines, csv_rows, row_error
from liftoff.validate.gate import validate_rows
from liftoff_contracts import contract_columns, contract_version, rows_adapter

FileFormat = Literal["jsonl", "csv"]
SUFFIXES: dict[str, FileFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


class UnreadableFile(Exception):
    """The file cannot be read as rows at all."""


@dataclass
class FileReport:
    contract: str
    version: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    errors_by_field: Counter = field(default_factory=Counter)

    @property
    def reject_ratio(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0

    def as_json(self) -> dict:
        return {
            "contract": self.contract,
            "version": self.version,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "errors_by_field": dict(self.errors_by_field.most_common()),
        }


@dataclass
class Record:
    """One row of the file: its line, the parsed object, or why it could not be parsed."""

    line: int
    data: dict | None = None
    raw: str | None = None
    error: dict | None = None


def detect_format(path: Path, explicit: FileFormat | None = None) -> FileFormat:
    if explicit:
        return explicit
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise UnreadableFile(f"{path.name}: unknown format; use --format jsonl or --format csv") from None


def _open(path: Path) -> IO[bytes]:
    try:
        handle = path.open("rb")
    except IsADirectoryError:
        raise UnreadableFile(f"{path} is a directory") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot open {path}: {exc.strerror or exc}") from None
    if b"\x00" in handle.read(8192):
        handle.close()
        raise UnreadableFile(f"{path} is a binary file, not JSONL or CSV")
    handle.seek(0)
    return handle


MAX_JSON_LINE_BYTES = 1024 * 1024  # an order of 500 lines is about 60 KiB


def read_jsonl(handle: IO[bytes]) -> Iterator[Record]:
    for number, raw_line in bounded_lines(handle, MAX_JSON_LINE_BYTES):
        if raw_line is None:
            error = row_error("row_too_long", f"longer than {MAX_JSON_LINE_BYTES:,} bytes")
            yield Record(number, error=error)
            continue
        try:
            line = raw_line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield Record(
                number, raw=raw_line.decode("utf-8", "replace"), error=row_error("utf8_invalid", str(exc))
            )
            continue
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield Record(number, raw=line, error=row_error("json_invalid", f"not JSON: {exc}"))
            continue
        except RecursionError:
            yield Record(
                number, raw=line[:200], error=row_error("json_invalid", "not JSON: nested too deeply")
            )
            continue
        if not isinstance(data, dict):
            yield Record(number, raw=line, error=row_error("json_not_object", "a row must be a JSON object"))
            continue
        yield Record(number, data=data)


def read_csv(handle: IO[bytes], required: list[str], derived_key: str | None = None) -> Iterator[Record]:
    """The CSV's rows. In a file without a ``derived_key`` column, each row gets a placeholder
    key made from its line number."""
    try:
        for row in csv_rows(handle, required):
            data = row.cells
            if data is not None and derived_key and derived_key not in row.columns:
                data = {derived_key: f"line-{row.line}", **data}
            yield Record(row.line, data=data, raw=row.raw, error=row.error)
    except CsvRefused as exc:
        raise UnreadableFile(str(exc)) from None


def required_columns(contract: type[BaseModel], derived_key: str | None) -> list[str]:
    """The columns of the contract's required fields, less a key the writer derives (the entry
    app's upload format has no ``sale_id``: the app makes one from the row)."""
    return [
        column
        for column, info in contract_columns(contract).items()
        if info.is_required() and column != derived_key
    ]


def validate_file(
    path: Path,
    name: str,
    contract: type[BaseModel],
    *,
    file_format: FileFormat | None = None,
    rejects_path: Path | None = None,
    chunk_size: int = 5000,
    now: datetime | None = None,
    derived_key: str | None = None,
) -> FileReport:
    """Validate every row of ``path``; write the rejected ones, with their errors, to ``rejects_path``.

    ``derived_key``: a key field a CSV may leave out, as the entry app's upload does. Each
    row is then validated with a placeholder key, as the writer makes one.
    """
    if detect_format(path, file_format) == "jsonl":
        reader = read_jsonl
    else:

        def reader(handle: IO[bytes]) -> Iterator[Record]:
            return read_csv(handle, required_columns(contract, derived_key), derived_key)

    report = FileReport(name, contract_version(contract))
    adapter = rows_adapter(contract)
    context = {"not_after": now or datetime.now(UTC)}
    rejects = rejects_path.open("w") if rejects_path else None

    def reject(record: Record, errors: list[dict]) -> None:
        report.rejected += 1
        report.errors_by_field.update({error["field"] for error in errors})
        if rejects:
            row = record.data if record.data is not None else record.raw
            rejects.write(json.dumps({"line": record.line, "row": row, "errors": errors}, default=str) + "\n")

    def flush(chunk: list[Record]) -> None:
        rejected = validate_rows(adapter, [record.data for record in chunk], context)
        for index, errors in sorted(rejected.items()):
            reject(chunk[index], errors)

    try:
        with _open(path) as handle:
            chunk: list[Record] = []
            for record in reader(handle):
                report.rows += 1
                if record.error:
                    reject(record, [record.error])
                    continue
                chunk.append(record)
                if len(chunk) >= chunk_size:
                    flush(chunk)
                    chunk = []
            if chunk:
                flush(chunk)
    finally:
        if rejects:
            rejects.close()
    if report.rows == 0:
        raise UnreadableFile(f"{path.name} has no rows")
    report.accepted = report.rows - report.rejected
    return report
