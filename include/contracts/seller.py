"""The ``Seller`` contract: a member of the sales team, from the CRM's reference stream."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from liftoff_contracts.types import Email, Timestamp, text


class Seller(BaseModel):
    """A seller; ``email`` is the key sales are attributed by."""

    __version__: ClassVar[str] = "1.0.0"

    model_config = ConfigDict(extra="ignore", frozen=True)

    seller_id: text(64) = Field(description="The CRM's seller identifier.")
    name: text(200) = Field(description="Full name.")
    email: Email = Field(description="Email, lower case; sales name the seller by it.")
    region: text(64, min_length=0) | None = Field(None, description="Sales region.")
    updated_at: Timestamp | None = Field(None, description="Last change in the CRM.")
