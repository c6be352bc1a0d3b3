"""The ``Sale`` contract: one sale as the CRM, the entry app or the stream reports it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from liftoff_contracts.types import Email, Timestamp, text

# Above this a single sale is a typo or a test, not a sale (about 15x the largest order).
AMOUNT_CEILING = Decimal("100000.00")


def _not_after_bound(value: datetime, info: ValidationInfo) -> datetime:
    """``sold_at`` may not be after ``context["not_after"]`` (the batch's interval end, or now)."""
    not_after = (info.context or {}).get("not_after")
    if not_after is not None and value > not_after:
        raise ValueError(f"sold_at {value.isoformat()} is after {not_after.isoformat()}")
    return value


class Sale(BaseModel):
    """A sale: who sold what, when, for how much. The rules live here, not in callers.

    Validation context (optional): ``not_after``, a datetime ``sold_at`` may not exceed.
    """

    __version__: ClassVar[str] = "1.1.0"

    model_config = ConfigDict(extra="ignore", frozen=True)

    sale_id: text(64) = Field(description="The source's sale identifier.")
    seller_email: Email = Field(description="The seller's email, lower case.")
    sold_at: Annotated[Timestamp, AfterValidator(_not_after_bound)] = Field(
        description="When the sale happened (ISO-8601 with offset); not after the batch's interval end."
    )
    amount: Annotated[Decimal, Field(gt=0, lt=AMOUNT_CEILING, max_digits=12, decimal_places=2)] = Field(
        description="Amount of the sale: > 0, at most 2 decimal places, below 100,000.00."
    )
    quantity: Annotated[int, Field(ge=1, le=10_000)] = Field(description="Units sold, a whole number >= 1.")
    product: text(100) = Field(description="Product name, 1 to 100 characters.")
    updated_at: Timestamp | None = Field(None, description="Last change in the source (the sync cursor).")
