"""A CSV of sales uploaded to the entry app: every row checked by the ``Sale`` contract.

Read by the one CSV reader (``liftoff.validate.csv_file``, as ``liftoff validate`` reads),
streamed and bounded: at most ``MAX_UPLOAD_MB`` (Streamlit refuses more before we see it)
and ``MAX_ROWS`` rows. A row's id is a hash of its content (and of how many identical rows
came before it in the file), so uploading the same file again, or again after fixing its
rejected rows, lands each sale once. The rejected rows' CSV has formula cells neutralised.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from liftoff.entry.form import check_sale
from liftoff.validate.csv_file import CsvRefused, csv_rows, neutralise

COLUMNS = ("seller_email", "sold_at", "amount", "quantity", "product")
MAX_ROWS = 50_000
MAX_UPLOAD_MB = 10  # 50,000 rows of about 100 bytes, twice over


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
            row = {"line": rejected.line, **rejected.row, "errors": rejected.reason}
            writer.writerow({name: neutralise(value) for name, value in row.items()})
        return out.getvalue()


def check_upload(data: bytes | IO[bytes], products: set[str], now: datetime | None = None) -> CheckedUpload:
    """Check every row of a CSV upload; raises UploadError for a file that is not a sales CSV."""
    now = now or datetime.now(UTC)
    handle = io.BytesIO(data) if isinstance(data, bytes) else data
    result = CheckedUpload(columns=list(COLUMNS))
    seen: Counter[str] = Counter()
    rows = 0
    try:
        for row in csv_rows(handle, COLUMNS):
            rows += 1
            if rows > MAX_ROWS:
                raise UploadError(f"more than {MAX_ROWS:,} rows: split the file")
            result.columns = list(row.columns)
            if row.error:
                result.rejected.append(
                    RejectedRow(row.line, {"row": row.raw or ""}, {"row": row.error["message"]})
                )
                continue
            cells = row.cells or {}
            checked = check_sale(
                "upload-pending",
                seller_email=cells.get("seller_email", ""),
                sold_at=cells.get("sold_at"),
                amount=cells.get("amount", ""),
                quantity=cells.get("quantity", ""),
                product=cells.get("product", ""),
                products=products,
                now=now,
            )
            if checked.sale is None:
                result.rejected.append(RejectedRow(row.line, cells, checked.errors))
                continue
            sale = checked.sale
            content = "|".join(
                map(
                    str,
                    (sale.seller_email, sale.sold_at.isoformat(), sale.amount, sale.quantity, sale.product),
                )
            )
            seen[content] += 1
            key = hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()[:32]
            result.accepted.append(sale.model_copy(update={"sale_id": f"upload-{key}"}))
    except CsvRefused as exc:
        raise UploadError(str(exc)) from None
    return result
