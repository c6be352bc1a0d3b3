"""One sale typed into the entry form: checked by the ``Sale`` contract, errors per field."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from liftoff.config import dbt_var
from liftoff_contracts import Sale, error_message

SOURCE, STREAM = "entry", "sales"  # where entered sales land: raw_entry.sales

# The form's fields, in order, with the labels people see.
FIELD_LABELS = {
    "seller_email": "Seller email",
    "sold_at": "Sold at (UTC)",
    "amount": "Amount",
    "quantity": "Quantity",
    "product": "Product",
}


def new_entry_key() -> str:
    """The idempotency key of one form fill: the sale's id, whatever the clicks."""
    return f"entry-{uuid.uuid4()}"


@dataclass
class Checked:
    """The contract's verdict on a form: a sale, or a message per wrong field; and what to
    know about a sale that is saved all the same."""

    sale: Sale | None = None
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def lookback_warning(sold_at: datetime, now: datetime) -> str | None:
    """A sale older than the days gold recomputes at each run reaches silver with the next
    run, but gold's figures of its own day change only when that day is rerun."""
    lookback = int(dbt_var("gold_daily_lookback_days"))
    oldest = (now - timedelta(days=lookback)).date()
    if sold_at.astimezone(UTC).date() >= oldest:
        return None
    return (
        f"sold on {sold_at.astimezone(UTC).date()}, before {oldest}: the next run recomputes gold for the"
        f" last {lookback + 1} days only, so that day's figures change when it is rerun"
        " (ask the data team; docs/runbook.md, Rerun one day)"
    )


def field_errors(exc: ValidationError) -> dict[str, str]:
    """The first error of each field, in the contract's own words (readable ones for patterns)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        errors.setdefault(name, error_message(error["type"], error["msg"]))
    return errors


def check_sale(
    key: str,
    *,
    seller_email: str,
    sold_at: datetime | None,
    amount: object,
    quantity: object,
    product: str | None,
    products: set[str],
    now: datetime | None = None,
) -> Checked:
    """Check a form: the contract's rules, plus a product the warehouse knows.

    ``updated_at`` is the moment of entry (the batch cursor); ``sold_at`` may not be after it.
    """
    now = now or datetime.now(UTC)
    record = {
        "sale_id": key,
        "seller_email": seller_email,
        "sold_at": sold_at,
        "amount": _decimal(amount),
        "quantity": quantity,
        "product": product or "",
        "updated_at": now,
    }
    errors: dict[str, str] = {}
    sale = None
    try:
        sale = Sale.model_validate(record, context={"not_after": now})
    except ValidationError as exc:
        errors = field_errors(exc)
    if product and product not in products:
        errors.setdefault("product", f"{product!r} is not a product the warehouse knows")
    if errors:
        return Checked(None, errors)
    warning = lookback_warning(sale.sold_at, now)
    return Checked(sale, {}, [warning] if warning else [])


CENTS = Decimal("0.01")


def _decimal(value: object) -> object:
    """An amount as an exact decimal in cents (49.0 -> 49.00); more decimals stay, for the
    contract to refuse; what is not a number stays as it is, for the contract to name."""
    try:
        amount = Decimal(str(value).strip()) if isinstance(value, float | int | str) else value
    except InvalidOperation:
        return value
    if isinstance(amount, Decimal) and amount.is_finite() and amount.as_tuple().exponent > -2:
        return amount.quantize(CENTS)
    return amount
