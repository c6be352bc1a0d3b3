"""The ``Sale`` contract: one sale as the CRM, the entry app or the stream reports it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from liftoff_contracts.types import Email, PastTimestamp, Timestamp, text

# Above this a single sale is a typo or a test, not a sale (about 15x the largest order).
AMOUNT_CEILING = Decimal("100000.00")


class Sale(BaseModel):
    """A sale: who sold what, when, for how much. The rules live here, not in callers.

    Validation context (optional): ``not_after``, a datetime ``sold_at`` may not exceed.
    """

    __version__: ClassVar[str] = "1.1.0"

    model_config = ConfigDict(extra="ignore", frozen=True)

    sale_id: text(64) = Field(description="The source's sale identifier.")
    seller_email: Email = Field(description="The seller's email, lower case.")
    sold_at: PastTimestamp = Field(
        description="When the sale happened (ISO-8601 with offset); not after the batch's interval end."
    )
    amount: Annotated[Decimal, Field(gt=0, lt=AMOUNT_CEILING, max_digits=12, decimal_places=2)] = Field(
        description="Amount of the sale: > 0, at most 2 decimal places, below 100,000.00."
    )
    quantity: Annotated[int, Field(ge=1, le=10_000)] = Field(description="Units sold, a whole number >= 1.")
    product: text(100) = Field(description="Product name, 1 to 100 characters.")
    updated_at: Timestamp | None = Field(None, description="Last change in the source (the sync cursor).")
