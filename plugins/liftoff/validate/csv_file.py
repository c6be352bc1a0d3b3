"""The one CSV reader: every CSV we take in (``liftoff validate``, the entry app's upload).

- The file is read as a stream, line by line, and no line is held past ``max_line_bytes``:
  a longer one is that row's error, skipped without being kept.
- The header (the first non-blank line; a UTF-8 byte order mark and padding are fine) must
  name every required column and no column twice: otherwise the whole file is refused, in
  one line. A file with no header or no row is refused too.
- Each row stands alone: a wrong number of cells, a byte that is not UTF-8, a field over
  the parser's limit is that row's error (with its line), never the file's.
- An empty cell is a missing value; cells are trimmed.

:func:`neutralise` makes a cell safe in a CSV we write (a spreadsheet runs ``=…`` cells).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

MAX_LINE_BYTES = 64 * 1024  # a sales row is under 1 KiB; a longer line is not a row of ours
_TOO_LONG = "\n"  # what the parser is given in place of a line over the limit


class CsvRefused(ValueError):
    """The file as a whole is not a CSV of the expected columns: nothing in it is taken."""


@dataclass(frozen=True)
class CsvRow:
    """One row: its cells by column (empty ones left out), or why it could not be read."""

    line: int
    cells: dict[str, str] | None = None
    raw: str | None = None
    error: dict | None = None
    columns: tuple[str, ...] = ()  # the file's header


def row_error(error_type: str, message: str) -> dict:
    return {"field": "__row__", "type": error_type, "message": message}


def bounded_lines(handle: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` of each line; ``None`` for a line over ``limit`` bytes, which
    is skipped without ever being held whole."""
    number = 0
    while raw := handle.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (more := handle.readline(limit)) and not more.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, raw


def _lines(handle: IO[bytes], limit: int, too_long: set[int]) -> Iterator[str]:
    """The file's lines as text (undecodable bytes kept as surrogates, judged per row)."""
    for number, raw in bounded_lines(handle, limit):
        if raw is None:
            too_long.add(number)
            yield _TOO_LONG
            continue
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        yield raw.decode("utf-8", "surrogateescape")


def _undecodable(values: Sequence[str]) -> bool:
    return any("\udc80" <= char <= "\udcff" for value in values for char in value)


def csv_rows(
    handle: IO[bytes], required: Sequence[str], *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[CsvRow]:
    """The rows of a CSV file whose header names every ``required`` column; see the module."""
    too_long: set[int] = set()
    reader = csv.reader(_lines(handle, max_line_bytes, too_long))
    header: tuple[str, ...] | None = None
    rows = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if header is None:
                raise CsvRefused(f"the header is not CSV: {exc}") from None
            rows += 1
            yield CsvRow(reader.line_num, error=row_error("csv_invalid", f"not CSV: {exc}"), columns=header)
            continue
        line = reader.line_num
        if line in too_long:
            if header is None:
                raise CsvRefused(f"the header is longer than {max_line_bytes:,} bytes")
            rows += 1
            error = row_error("row_too_long", f"longer than {max_line_bytes:,} bytes")
            yield CsvRow(line, error=error, columns=header)
            continue
        if not values or all(not value.strip() for value in values):
            continue
        if header is None:
            header = _header(values, required)
            continue
        rows += 1
        raw = ",".join(values)
        if _undecodable(values):
            text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            error = row_error("utf8_invalid", "a byte that is not UTF-8")
            yield CsvRow(line, raw=text, error=error, columns=header)
        elif len(values) != len(header):
            error = row_error("csv_column_count", f"expected {len(header)} cells, got {len(values)}")
            yield CsvRow(line, raw=raw, error=error, columns=header)
        else:
            cells = {name: value.strip() for name, value in zip(header, values, strict=True)}
            yield CsvRow(line, cells={name: value for name, value in cells.items() if value}, columns=header)
    if header is None:
        raise CsvRefused("the file is empty: expected a header naming " + ", ".join(required))
    if rows == 0:
        raise CsvRefused("the file has a header but no rows")


def _header(values: list[str], required: Sequence[str]) -> tuple[str, ...]:
    if _undecodable(values):
        raise CsvRefused("the header is not UTF-8 text")
    header = tuple(value.strip() for value in values)
    duplicated = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicated:
        raise CsvRefused(f"column(s) named twice: {', '.join(duplicated)}")
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvRefused(
            f"missing column(s) {', '.join(missing)}; the header must name {', '.join(required)}"
        )
    return header


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell a spreadsheet would run as a formula (``=HYPERLINK(…)``), made inert with a
    leading apostrophe, as OWASP advises; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
