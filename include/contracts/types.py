"""Field types shared by the contracts.

Every rule is an ``Annotated`` constraint that pydantic-core runs, so the same field
definitions validate one form submission (a model) or a million landed rows (the
TypedDict view from :func:`liftoff_contracts.row_schema`) without Python per field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StringConstraints, ValidationInfo

# An address as sales systems accept it: local part, @, a dotted domain with a TLD of
# 2+ letters. Deliverability is not checked (the network is closed and it would be slow).
EMAIL_PATTERN = (
    r"^[A-Za-z0-9._%+'\-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}$"
)


def _iso_offset(value: object) -> object:
    """Accept ISO-8601's hour-only UTC offset (``+00``, as PostgreSQL prints it) as ``+00:00``."""
    if isinstance(value, str) and len(value) > 3 and value[-3] in "+-" and value[-2:].isdigit():
        return value + ":00"
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_offset)]
"""An ISO-8601 date-time with a UTC offset (a naive one is ambiguous and rejected)."""


def _not_after_bound(value: datetime, info: ValidationInfo) -> datetime:
    """Not after ``context["not_after"]`` (the batch's interval end, or now), when given."""
    not_after = (info.context or {}).get("not_after")
    if not_after is not None and value > not_after:
        raise ValueError(f"{value.isoformat()} is after {not_after.isoformat()}")
    return value


PastTimestamp = Annotated[Timestamp, AfterValidator(_not_after_bound)]
"""A ``Timestamp`` of something that has happened: not after the validation context's ``not_after``."""

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=EMAIL_PATTERN)
]
"""An email address, normalised to lower case."""


def text(max_length: int, *, min_length: int = 1) -> type[str]:
    """A stripped string with length bounds."""
    bounds = StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    return Annotated[str, bounds]


# pydantic's own words, except where they would show people a regular expression.
_READABLE = {"string_pattern_mismatch": "is not a valid email address"}


def error_message(error_type: str, message: str) -> str:
    """The message to show for a validation error of ``error_type``."""
    return _READABLE.get(error_type, message)
