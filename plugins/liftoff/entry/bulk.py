"""A CSV of sales uploaded to the entry app: every row checked by the ``Sale`` contract.

A row's id is a hash of its content (and of how many identical rows came before it in the
file), so uploading the same file again, or again after fixing its rejected rows, lands
each sale once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from liftoff.entry.form import check_sale

COLUMNS = ("seller_email", "sold_at", "amount", "quantity", "product")
MAX_ROWS = 50_000


class UploadError(ValueError):
    """The file as a whole cannot be read: nothing in it is accepted."""


@dataclass(frozen=True)
class RejectedRow:
    line: int  # in the file, the header being line 1
    row: dict[str, str]
    errors: dict[str, str]

    @property
    def reason(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


@dataclass
class CheckedUpload:
    accepted: list = field(default_factory=list)  # Sale records, ready to push
    rejected: list[RejectedRow] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def rejects_csv(self) -> str:
        """The rejected rows as they were, with their line and errors: fix them, upload them again."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["line", *self.columns, "errors"], extrasaction="ignore")
        writer.writeheader()
        for rejected in self.rejected:
            writer.writerow({"line": rejected.line, **rejected.row, "errors": rejected.reason})
        return out.getvalue()


def check_upload(data: bytes, products: set[str], now: datetime | None = None) -> CheckedUpload:
    """Check every row of a CSV upload; raises UploadError for a file that is not a sales CSV."""
    now = now or datetime.now(UTC)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"the file is not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise UploadError(
            f"missing column(s) {', '.join(missing)}; the header must name {', '.join(COLUMNS)}"
        )
    reader.fieldnames = header
    result = CheckedUpload(columns=header)
    seen: Counter[str] = Counter()
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise UploadError(f"more than {MAX_ROWS:,} rows: split the file")
        row = {name: (value or "").strip() for name, value in row.items() if name is not None}
        checked = check_sale(
            "upload-pending",
            seller_email=row["seller_email"],
            sold_at=row["sold_at"] or None,
            amount=row["amount"],
            quantity=row["quantity"],
            product=row["product"],
            products=products,
            now=now,
        )
        if checked.sale is None:
            result.rejected.append(RejectedRow(line, row, checked.errors))
            continue
        sale = checked.sale
        content = "|".join(
            map(str, (sale.seller_email, sale.sold_at.isoformat(), sale.amount, sale.quantity, sale.product))
        )
        seen[content] += 1
        key = hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()[:32]
        result.accepted.append(sale.model_copy(update={"sale_id": f"upload-{key}"}))
    return result
