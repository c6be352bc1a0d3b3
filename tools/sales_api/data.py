"""Deterministic demo CRM data: the same day and seed always give the same rows.

Every row of a day is derived from ``random.Random(f"{seed}:{day}")``, so a request
made twice (or by a test computing expected numbers independently) sees the same data.
A fraction of rows can be made dirty; ``DayData.dirty`` reports what was injected.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

PRODUCTS: list[dict] = [
    {"product_id": "P001", "name": "Starter Plan", "category": "subscription", "unit_price": "49.00"},
    {"product_id": "P002", "name": "Growth Plan", "category": "subscription", "unit_price": "199.00"},
    {"product_id": "P003", "name": "Enterprise Plan", "category": "subscription", "unit_price": "990.00"},
    {"product_id": "P004", "name": "Onboarding Workshop", "category": "service", "unit_price": "350.00"},
    {"product_id": "P005", "name": "Data Migration", "category": "service", "unit_price": "1200.00"},
    {"product_id": "P006", "name": "Extra Seat", "category": "add-on", "unit_price": "15.00"},
    {"product_id": "P007", "name": "Priority Support", "category": "add-on", "unit_price": "89.00"},
    {"product_id": "P008", "name": "API Access", "category": "add-on", "unit_price": "59.00"},
    {"product_id": "P009", "name": "Analytics Pack", "category": "add-on", "unit_price": "129.00"},
    {"product_id": "P010", "name": "Hardware Scanner", "category": "hardware", "unit_price": "240.00"},
]

SELLERS: list[dict] = [
    {"seller_id": "V01", "name": "Ana Souza", "email": "ana.souza@liftoff.example", "region": "south"},
    {"seller_id": "V02", "name": "Bruno Lima", "email": "bruno.lima@liftoff.example", "region": "south"},
    {"seller_id": "V03", "name": "Carla Dias", "email": "carla.dias@liftoff.example", "region": "north"},
    {"seller_id": "V04", "name": "Diego Alves", "email": "diego.alves@liftoff.example", "region": "north"},
    {"seller_id": "V05", "name": "Elisa Rocha", "email": "elisa.rocha@liftoff.example", "region": "east"},
    {"seller_id": "V06", "name": "Felipe Nunes", "email": "felipe.nunes@liftoff.example", "region": "east"},
    {"seller_id": "V07", "name": "Gabi Castro", "email": "gabi.castro@liftoff.example", "region": "west"},
    {"seller_id": "V08", "name": "Hugo Mendes", "email": "hugo.mendes@liftoff.example", "region": "west"},
]

# Kinds of dirt the API can inject, each a realistic CRM failure.
DIRT_KINDS = ("bad_email", "negative_amount", "impossible_date", "duplicate", "outlier")

# Catalogue data is versioned by this timestamp (the cursor of the reference streams).
REFERENCE_UPDATED_AT = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class DayData:
    """The sales of one day, in API order, and the dirt injected into them."""

    day: date
    sales: list[dict]
    dirty: list[dict] = field(default_factory=list)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _clean_sale(rng: random.Random, day: date, index: int) -> dict:
    product = rng.choice(PRODUCTS)
    seller = rng.choice(SELLERS)
    quantity = rng.choices([1, 2, 3, 4, 5], weights=[50, 25, 12, 8, 5])[0]
    discount = Decimal(rng.choice([0, 0, 0, 5, 10, 15])) / Decimal(100)
    amount = Decimal(product["unit_price"]) * quantity * (1 - discount)
    sold_at = datetime.combine(day, time(), UTC) + timedelta(seconds=rng.randrange(0, 23 * 3600))
    updated_at = sold_at + timedelta(seconds=rng.randrange(0, 1800))
    email = seller["email"]
    if rng.random() < 0.2:  # CRMs keep whatever case the seller typed
        email = email.title()
    return {
        "sale_id": f"S{day:%Y%m%d}-{index:04d}",
        "seller_email": email,
        "product": product["name"],
        "quantity": quantity,
        "amount": _money(amount),
        "sold_at": sold_at.strftime(TIMESTAMP_FORMAT),
        "updated_at": updated_at.strftime(TIMESTAMP_FORMAT),
    }


def _make_dirty(rng: random.Random, sale: dict, kind: str) -> dict | None:
    """Corrupt ``sale`` in place by ``kind``; return an extra row for duplicates."""
    if kind == "bad_email":
        sale["seller_email"] = sale["seller_email"].split("@")[0] + "-at-liftoff"
    elif kind == "negative_amount":
        sale["amount"] = "-" + sale["amount"]
    elif kind == "impossible_date":
        sale["sold_at"] = sale["sold_at"][:5] + "02-30" + sale["sold_at"][10:]
    elif kind == "outlier":
        sale["amount"] = _money(Decimal(sale["amount"]) * 10)  # passes the contract; silver flags it
    elif kind == "duplicate":
        return dict(sale)
    return None


CHANNELS = ("web", "phone", "partner")


@lru_cache(maxsize=8)
def sales_for_day(
    day: date,
    *,
    seed: int = 42,
    dirty_fraction: float = 0.0,
    with_channel: bool = False,
    rows_per_day: int | None = None,
    late_corrections: int = 0,
) -> DayData:
    """Generate the sales whose ``updated_at`` falls on ``day`` (UTC). Cached: do not mutate.

    ``with_channel``: the CRM has grown a field (``channel``) its connector does not declare.
    ``rows_per_day``: a fixed volume (benchmarks) instead of the usual 40 to 60 sales.
    ``late_corrections``: that many sales sold two days earlier come back corrected (same
    sale id and ``sold_at``, a new amount, ``updated_at`` on this day); see :func:`corrections_for_day`.
    """
    rng = random.Random(f"{seed}:{day.isoformat()}")
    count = 40 + rng.randrange(0, 21)
    if rows_per_day is not None:
        count = rows_per_day
    sales: list[dict] = []
    dirty: list[dict] = []
    # A separate stream decides the dirt, so the clean rows of a day are the same
    # whatever the dirty fraction is.
    dirt_rng = random.Random(f"{seed}:{day.isoformat()}:dirt")
    for index in range(1, count + 1):
        sale = _clean_sale(rng, day, index)
        sales.append(sale)
        if dirty_fraction > 0 and dirt_rng.random() < dirty_fraction:
            kind = dirt_rng.choice(DIRT_KINDS)
            extra = _make_dirty(dirt_rng, sale, kind)
            dirty.append({"sale_id": sale["sale_id"], "kind": kind})
            if extra is not None:
                sales.append(extra)
    sales.extend(corrections_for_day(day, seed=seed, count=late_corrections))
    if with_channel:  # its own random stream: the other fields stay the same
        channel_rng = random.Random(f"{seed}:{day.isoformat()}:channel")
        for sale in sales:
            sale["channel"] = channel_rng.choice(CHANNELS)
    sales.sort(key=lambda row: (row["updated_at"], row["sale_id"]))
    return DayData(day=day, sales=sales, dirty=dirty)


CORRECTION_LAG_DAYS = 2


def corrections_for_day(day: date, *, seed: int = 42, count: int = 0) -> list[dict]:
    """New versions, updated on ``day``, of ``count`` clean sales sold two days before.

    The amount changes (a renegotiated price: +10%); the sale id and ``sold_at`` do not.
    """
    if count <= 0:
        return []
    original_day = day - timedelta(days=CORRECTION_LAG_DAYS)
    rng = random.Random(f"{seed}:{original_day.isoformat()}")
    total = 40 + rng.randrange(0, 21)
    originals = [_clean_sale(rng, original_day, index) for index in range(1, total + 1)]
    pick = random.Random(f"{seed}:{day.isoformat()}:corrections")
    corrected = []
    for sale in pick.sample(originals, min(count, len(originals))):
        updated_at = datetime.combine(day, time(), UTC) + timedelta(seconds=pick.randrange(0, 23 * 3600))
        corrected.append(
            {
                **sale,
                "amount": _money(Decimal(sale["amount"]) * Decimal("1.10")),
                "updated_at": updated_at.strftime(TIMESTAMP_FORMAT),
            }
        )
    return corrected


def parse_timestamp(value: str) -> datetime:
    """Parse an API timestamp (``YYYY-MM-DDTHH:MM:SSZ`` or any ISO-8601 form) as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sales_between(
    start: datetime,
    end: datetime,
    *,
    seed: int = 42,
    dirty_fraction: float = 0.0,
    with_channel: bool = False,
    rows_per_day: int | None = None,
    late_corrections: int = 0,
) -> list[dict]:
    """Sales with ``start <= updated_at <= end`` (both inclusive, second precision)."""
    rows: list[dict] = []
    day = start.date()
    while day <= end.date():
        sales = sales_for_day(
            day,
            seed=seed,
            dirty_fraction=dirty_fraction,
            with_channel=with_channel,
            rows_per_day=rows_per_day,
            late_corrections=late_corrections,
        ).sales
        day_start = datetime.combine(day, time(), UTC)
        if start <= day_start and end >= day_start + timedelta(days=1, seconds=-1):
            rows.extend(sales)  # the whole day: no need to look at each cursor
        else:
            rows.extend(sale for sale in sales if start <= parse_timestamp(sale["updated_at"]) <= end)
        day += timedelta(days=1)
    return rows
