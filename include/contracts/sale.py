"""The ``Sale`` contract: one sale as the CRM, the entry app or the stream reports it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from liftoff_contracts.types import Timestamp

# Above this a single sale is a typo or a test, not a sale (about 100x the largest plan).
AMOUNT_CEILING = Decimal("100000.00")


class Sale(BaseModel):
    """A sale: who sold what, when, for how much. Rules live here, not in callers.

    Validation context (optional): ``not_after`` (a datetime): ``sold_at`` may not be later,
    e.g. the end of the batch's data interval, or now when validating a file.
    """

    __version__: ClassVar[str] = "1.0.0"

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    sale_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    seller_email: EmailStr
    sold_at: Timestamp
    amount: Annotated[Decimal, Field(gt=0, lt=AMOUNT_CEILING, max_digits=12, decimal_places=2)]
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    product: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    updated_at: Timestamp | None = None

    @field_validator("seller_email")
    @classmethod
    def _lower_case_email(cls, value: str) -> str:
        return value.lower()

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float_nan(cls, value: object) -> object:
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            raise ValueError("amount must be a finite number")
        return value

    @field_validator("sold_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        not_after = (info.context or {}).get("not_after")
        if not_after is not None and value > not_after:
            raise ValueError(f"sold_at {value.isoformat()} is after {not_after.isoformat()}")
        return value
