"""The ``Order`` contract: one web-shop order, with its lines, as the shop's API reports it."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from liftoff_contracts.types import Email, PastTimestamp, Timestamp, text

# Prices are integer cents; a line above 100,000.00 is a typo, as for a CRM sale.
CENTS_CEILING = 10_000_000


class OrderLine(BaseModel):
    """One product of an order: its SKU (the catalogue's product id), units and price in cents."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: text(64) = Field(description="The product's catalogue id.")
    quantity: Annotated[int, Field(ge=1, le=10_000)] = Field(description="Units, a whole number >= 1.")
    unit_price_cents: Annotated[int, Field(gt=0, lt=CENTS_CEILING)] = Field(
        description="Price of one unit in cents: > 0, below 100,000.00."
    )
    discount_cents: Annotated[int, Field(ge=0, lt=CENTS_CEILING)] = Field(
        0, description="Discount on the whole line in cents: >= 0 and not above the line's price."
    )

    @model_validator(mode="after")
    def _discount_within_the_line(self) -> OrderLine:
        if self.discount_cents > self.unit_price_cents * self.quantity:
            raise ValueError("discount_cents is above the line's price (unit_price_cents x quantity)")
        return self


class Order(BaseModel):
    """An order placed in the shop and attributed to a sales rep; each line becomes one sale."""

    __version__: ClassVar[str] = "1.0.0"

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: text(64) = Field(description="The shop's order identifier.")
    sales_rep: Email = Field(description="Email of the seller the order is attributed to, lower case.")
    placed_at: PastTimestamp = Field(
        description="When the order was placed (ISO-8601 with offset); not after the batch's interval end."
    )
    modified_at: Timestamp = Field(description="Last change in the shop (the sync cursor).")
    lines: list[OrderLine] = Field(min_length=1, max_length=500, description="The order's lines, 1 to 500.")
