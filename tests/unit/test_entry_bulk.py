"""The CSV upload's checks: per-row contract errors, stable keys, file-level refusals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from liftoff.entry.bulk import UploadError, check_upload

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
PRODUCTS = {"Starter Plan", "Growth Plan"}
HEADER = "seller_email,sold_at,amount,quantity,product\n"
GOOD = "ana@liftoff.example,2026-11-20T09:00:00+00:00,49.00,1,Starter Plan\n"
OTHER = "bo@liftoff.example,2026-11-21T10:00:00Z,398,2,Growth Plan\n"


def test_valid_rows_are_accepted_typed() -> None:
    checked = check_upload((HEADER + GOOD + OTHER).encode(), PRODUCTS, now=NOW)
    assert checked.rejected == [] and len(checked.accepted) == 2
    second = checked.accepted[1]
    assert (second.seller_email, str(second.amount), second.quantity) == ("bo@liftoff.example", "398.00", 2)
    assert second.sold_at == datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert all(sale.sale_id.startswith("upload-") for sale in checked.accepted)


def test_keys_depend_on_the_rows_not_the_file() -> None:
    first = check_upload((HEADER + GOOD + GOOD + OTHER).encode(), PRODUCTS, now=NOW)
    keys = [sale.sale_id for sale in first.accepted]
    assert len(set(keys)) == 3, "two identical sales in one file are two sales"
    again = check_upload((HEADER + GOOD + GOOD + OTHER).encode(), PRODUCTS, now=NOW)
    assert [sale.sale_id for sale in again.accepted] == keys, "the same file again: the same keys"
    reordered = check_upload((HEADER + OTHER + GOOD).encode(), PRODUCTS, now=NOW)
    assert {sale.sale_id for sale in reordered.accepted} == {keys[0], keys[2]}


def test_rejected_rows_keep_their_line_values_and_errors() -> None:
    bad = (
        "not-an-email,2026-11-20T09:00:00+00:00,10,1,Starter Plan\n"
        "ana@liftoff.example,2026-11-20 09:00,-1,0,Starter Plan\n"
        "ana@liftoff.example,2026-12-25T09:00:00+00:00,10,1,Mystery Box\n"
    )
    checked = check_upload((HEADER + GOOD + bad).encode(), PRODUCTS, now=NOW)
    assert len(checked.accepted) == 1
    assert [r.line for r in checked.rejected] == [3, 4, 5]
    assert set(checked.rejected[0].errors) == {"seller_email"}
    assert set(checked.rejected[1].errors) == {"sold_at", "amount", "quantity"}  # naive time: no offset
    assert set(checked.rejected[2].errors) == {"sold_at", "product"}  # in the future; unknown product
    rows = list(csv.DictReader(io.StringIO(checked.rejects_csv())))
    assert [row["line"] for row in rows] == ["3", "4", "5"]
    assert rows[0]["seller_email"] == "not-an-email" and "seller_email: " in rows[0]["errors"]
    assert "amount: " in rows[1]["errors"] and "quantity: " in rows[1]["errors"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"seller,when,amount\nx,y,1\n", "missing column(s) seller_email, sold_at, quantity, product"),
        (b"", "the file is empty"),
        (HEADER.encode(), "the file has a header but no rows"),
        ((HEADER + GOOD).encode("utf-16"), "not UTF-8"),
    ],
)
def test_a_file_that_is_not_a_sales_csv_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(UploadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_upload(data, PRODUCTS, now=NOW)


def test_a_byte_order_mark_and_padded_header_are_fine() -> None:
    data = "\ufeff seller_email , sold_at,amount,quantity,product\n".encode() + GOOD.encode()
    assert len(check_upload(data, PRODUCTS, now=NOW).accepted) == 1
