"""The ``Product`` contract: an item of the catalogue, from the CRM's reference stream."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from liftoff_contracts.types import Timestamp, text


class Product(BaseModel):
    """A product; sales name it by ``name``."""

    __version__: ClassVar[str] = "1.0.0"

    model_config = ConfigDict(extra="ignore", frozen=True)

    product_id: text(64) = Field(description="The CRM's product identifier.")
    name: text(100) = Field(description="Product name, as sales name it.")
    category: text(64, min_length=0) | None = Field(None, description="Catalogue category.")
    unit_price: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)] = Field(
        description="List price of one unit."
    )
    updated_at: Timestamp | None = Field(None, description="Last change in the CRM.")
