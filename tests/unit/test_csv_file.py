"""The one CSV reader, as `liftoff validate` and the entry app's upload both use it."""

from __future__ import annotations

import io
import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liftoff.cli import app
from liftoff.entry.bulk import check_upload
from liftoff.validate.csv_file import MAX_LINE_BYTES, CsvRefused, csv_rows, neutralise

NOW = datetime(2026, 11, 21, tzinfo=UTC)
PRODUCTS = {"Starter Plan", "Growth Plan"}
UPLOAD = (
    "seller_email,sold_at,amount,quantity,product\n"
    "ana@liftoff.example,2026-11-20T09:00:00+00:00,49.00,1,Starter Plan\n"
    "bo@liftoff.example,2026-11-20T10:00:00+00:00,-5,1,Growth Plan\n"
    "not-an-email,2026-11-20T11:00:00+00:00,49.00,1,Starter Plan\n"
    "cy@liftoff.example,2026-11-20T12:00:00+00:00,199.00,2,Growth Plan\n"
)


def test_the_upload_format_gets_the_same_verdict_from_liftoff_validate(tmp_path: Path) -> None:
    checked = check_upload(UPLOAD.encode(), PRODUCTS, now=NOW)
    path = tmp_path / "upload.csv"
    path.write_text(UPLOAD)
    result = CliRunner().invoke(app, ["validate", "sale", str(path), "--json"])
    report = json.loads(result.stdout)
    assert (
        (report["accepted"], report["rejected"]) == (len(checked.accepted), len(checked.rejected)) == (2, 2)
    )
    assert set(report["errors_by_field"]) == {"amount", "seller_email"}


def test_a_bad_byte_or_an_overlong_field_rejects_its_row_only() -> None:
    data = (
        b"seller_email,sold_at,amount,quantity,product\n"
        b"ana@liftoff.example,2026-11-20T09:00:00+00:00,49.00,1,Caf\xe9 Plan\n"
        + b"ana@liftoff.example,2026-11-20T09:00:00+00:00,49.00,1,"
        + b"x" * 200_000
        + b"\n"
        + b"ana@liftoff.example,2026-11-20T09:00:00+00:00,49.00,1,Starter Plan\n"
    )
    rows = list(csv_rows(io.BytesIO(data), ["seller_email"]))
    assert [(row.line, row.error["type"] if row.error else None) for row in rows] == [
        (2, "utf8_invalid"),
        (3, "row_too_long"),
        (4, None),
    ]
    checked = check_upload(data, PRODUCTS, now=NOW)
    assert len(checked.accepted) == 1 and [r.line for r in checked.rejected] == [2, 3]


def test_a_huge_line_is_never_held_whole() -> None:
    data = b"seller_email,amount\n" + b"a" * (50 * 1024 * 1024) + b"\nana@x.io,1\n"
    tracemalloc.start()
    rows = list(csv_rows(io.BytesIO(data), ["seller_email"]))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [row.error["type"] if row.error else row.cells for row in rows] == [
        "row_too_long",
        {"seller_email": "ana@x.io", "amount": "1"},
    ]
    assert peak < 8 * MAX_LINE_BYTES, f"peak {peak:,} bytes for a 50 MB line"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"seller_email,amount\n", "a header but no rows"),
        (b"amount,amount,seller_email\n1,2,a@x.io\n", "named twice: amount"),
        (b"when,amount\nx,1\n", "missing column(s) seller_email"),
    ],
)
def test_a_file_that_is_not_ours_is_refused_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(CsvRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(csv_rows(io.BytesIO(data), ["seller_email"]))


def test_formula_cells_are_neutralised_in_the_rejects_we_write() -> None:
    data = (
        b"seller_email,sold_at,amount,quantity,product\n"
        b'"=HYPERLINK(""http://evil.example"",""x"")",2026-11-20T09:00:00+00:00,49.00,1,@SUM(A1)\n'
    )
    rejects = check_upload(data, PRODUCTS, now=NOW).rejects_csv()
    assert "'=HYPERLINK" in rejects and "'@SUM(A1)" in rejects
    cells = [cell.strip('"') for line in rejects.splitlines() for cell in line.split(",")]
    assert not any(cell.startswith(("=", "@")) for cell in cells)
    assert neutralise(49) == 49 and neutralise("Starter Plan") == "Starter Plan"
