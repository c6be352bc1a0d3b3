"""Gold exports (CSV in the archive) open safely in a spreadsheet: a typed name that starts a
formula is written as text."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from liftoff.archive.exports import export_table
from liftoff.archive.store import LocalFolderStore
from liftoff.warehouse.location import Warehouse

DAY = date(2026, 11, 20)


def test_cells_that_start_a_formula_are_quoted_and_numbers_are_not(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    with warehouse.connect() as conn:
        conn.execute("create schema gold")
        conn.execute("create table gold.by_seller (sale_date date, seller text, revenue numeric(12, 2))")
        conn.cursor().executemany(
            "insert into gold.by_seller values (%s, %s, %s)",
            [
                (DAY, '=HYPERLINK("http://evil.example","x")', 10),
                (DAY, "+1+cmd|' /C calc'!A0", 20),
                (DAY, "-2+3", -5),
                (DAY, "@SUM(A1)", 1),
                (DAY, "\tTabbed", 2),
                (DAY, "Ana Lima", 3),
                (date(2026, 11, 21), "=other day", 4),
            ],
        )
        conn.commit()
        store = LocalFolderStore(tmp_path / "archive")
        exported = export_table(conn, store, "by_seller", DAY)
    rows = list(csv.DictReader(io.StringIO(store.get_bytes(exported.key).decode())))
    assert exported.rows == len(rows) == 6
    by_revenue = {row["revenue"]: row["seller"] for row in rows}
    assert by_revenue == {
        "10.00": '\'=HYPERLINK("http://evil.example","x")',
        "20.00": "'+1+cmd|' /C calc'!A0",
        "-5.00": "'-2+3",
        "1.00": "'@SUM(A1)",
        "2.00": "'\tTabbed",
        "3.00": "Ana Lima",
    }, "numbers stay numbers (a negative revenue is not a formula)"
