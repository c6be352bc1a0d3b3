"""Field types shared by the contracts."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AwareDatetime, BeforeValidator

_HOUR_ONLY_OFFSET = re.compile(r"([+-]\d{2})$")


def _iso_offset(value: object) -> object:
    """Accept ISO-8601's hour-only UTC offset (``+00``, as PostgreSQL prints it) as ``+00:00``."""
    if isinstance(value, str):
        return _HOUR_ONLY_OFFSET.sub(r"\1:00", value.strip())
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_offset)]
"""An ISO-8601 date-time with a UTC offset (a naive one is rejected)."""
