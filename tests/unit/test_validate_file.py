"""`liftoff validate`: files from people who send data. Exit 0 within threshold, 1 over, 2 unreadable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liftoff.cli import app

GOOD = {
    "sale_id": "S1",
    "seller_email": "Ana@X.co",
    "sold_at": "2026-11-20T10:00:00Z",
    "amount": "10.00",
    "quantity": 2,
    "product": "Growth Plan",
}
runner = CliRunner()


def jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str):
    return runner.invoke(app, ["validate", *args])


def test_clean_jsonl_passes_with_exactly_one_json_object(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "sales.jsonl", [json.dumps({**GOOD, "sale_id": f"S{i}"}) for i in range(10)])
    result = run("sale", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {
        "contract": "sale",
        "version": "1.1.0",
        "rows": 10,
        "accepted": 10,
        "rejected": 0,
        "errors_by_field": {},
    }


def test_malformed_lines_are_rejected_rows_with_their_errors(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        "{not json",
        "[1, 2]",
        json.dumps({**GOOD, "seller_email": "nope", "amount": "-1"}),
        "",
        json.dumps({**GOOD, "quantity": "two"}),
    ]
    rejects = tmp_path / "rejects.jsonl"
    result = run("sale", str(jsonl(tmp_path / "s.jsonl", lines)), "--json", "--rejects", str(rejects))
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["rows"], report["accepted"], report["rejected"]) == (5, 1, 4)
    assert report["errors_by_field"] == {"__row__": 2, "seller_email": 1, "amount": 1, "quantity": 1}
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [w["line"] for w in written] == [2, 3, 4, 6]
    assert written[0]["errors"][0]["type"] == "json_invalid" and written[0]["row"] == "{not json"
    assert {e["field"] for e in written[2]["errors"]} == {"seller_email", "amount"}
    assert written[2]["errors"][0]["message"] == "is not a valid email address"


def test_csv_with_wrong_column_count_and_empty_optional_cells(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text(
        "sale_id,seller_email,sold_at,amount,quantity,product,updated_at\n"
        "S1,a@b.co,2026-11-20T10:00:00Z,10.00,1,Plan,\n"
        "S2,a@b.co,2026-11-20T10:00:00Z,10.00,1\n"
        "S3,a@b.co,2026-11-20T10:00:00Z,10.00,1,Plan,2026-11-20T11:00:00Z,extra\n"
        '"S4","a@b.co","2026-11-20T10:00:00+00:00","3.50","3","Plan, with comma",\n'
    )
    result = run("sale", str(path), "--json", "--max-reject-ratio", "0.5")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows"], report["accepted"], report["rejected"]) == (4, 2, 2)
    assert report["errors_by_field"] == {"__row__": 2}


def test_over_the_streams_threshold_exits_1(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "sale_id": f"S{i}"}) for i in range(8)] + ["oops", "oops"]
    assert run("sale", str(jsonl(tmp_path / "s.jsonl", lines))).exit_code == 1  # 20% > crm.sales' 10%
    assert run("sale", str(tmp_path / "s.jsonl"), "--max-reject-ratio", "0.25").exit_code == 0


def test_future_sale_is_rejected_when_validating_a_file(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "s.jsonl", [json.dumps({**GOOD, "sold_at": "2999-01-01T00:00:00Z"})])
    report = json.loads(run("sale", str(path), "--json").stdout)
    assert report["errors_by_field"] == {"sold_at": 1}


@pytest.mark.parametrize(
    "kind",
    ["missing", "directory", "binary", "unknown-extension", "header-lacks-columns", "empty", "header-only"],
)
def test_unreadable_file_exits_2(tmp_path: Path, kind: str) -> None:
    path = {
        "missing": tmp_path / "missing.jsonl",
        "directory": tmp_path,
        "binary": tmp_path / "image.jsonl",
        "unknown-extension": tmp_path / "sales.xlsx",
        "header-lacks-columns": tmp_path / "latin1.csv",
        "empty": tmp_path / "empty.jsonl",
        "header-only": tmp_path / "header.csv",
    }[kind]
    if kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    elif kind == "unknown-extension":
        path.write_text("x")
    elif kind == "header-lacks-columns":
        path.write_bytes("sale_id,product\nS1,Caf\xe9\n".encode("latin-1"))
    elif kind == "empty":
        path.write_text("")
    elif kind == "header-only":
        path.write_text(",".join(GOOD) + "\n")
    result = run("sale", str(path), "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error and "\n" not in error
    if kind == "header-lacks-columns":  # refused in one line, not scored row by row
        assert error.startswith("missing column(s) seller_email, sold_at, amount, quantity")


def test_unknown_contract_exits_2(tmp_path: Path) -> None:
    result = run("invoice", str(jsonl(tmp_path / "s.jsonl", [json.dumps(GOOD)])))
    assert result.exit_code == 2
    assert "unknown contract 'invoice'" in result.output


def test_deeply_nested_json_is_a_rejected_row_not_a_crash(tmp_path: Path) -> None:
    lines = [json.dumps(GOOD), "[" * 100_000, '{"sale_id": ' + "[" * 5000 + "]" * 5000 + "}"]
    rejects = tmp_path / "rejects.jsonl"
    result = run("sale", str(jsonl(tmp_path / "deep.jsonl", lines)), "--json", "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["rows"], report["accepted"], report["rejected"]) == (3, 1, 2)
    written = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [w["errors"][0]["message"] for w in written] == ["not JSON: nested too deeply"] * 2
