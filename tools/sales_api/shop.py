"""Deterministic demo web-shop orders: a second source with another shape.

Where the CRM reports one flat row per sale, the shop reports orders: an order id, the
sales rep it is attributed to, timestamps with milliseconds, and nested order lines
priced in cents by SKU (the catalogue's ``product_id``). Same day and seed, same orders.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from sales_api.data import PRODUCTS, SELLERS, parse_timestamp

SHOP_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"
DEMO_SHOP_TOKEN = "demo-shop-token"  # the demo shop's token (LIFTOFF_API_SHOP_TOKEN changes it)
COUNTRIES = ("BR", "PT", "US", "DE", "MX")


def _cents(price: str) -> int:
    return int(Decimal(price) * 100)


@lru_cache(maxsize=16)
def orders_for_day(day: date, *, seed: int = 42, orders_per_day: int | None = None) -> tuple[dict, ...]:
    """The orders whose ``modified_at`` falls on ``day`` (UTC), sorted by it. Cached: do not mutate."""
    rng = random.Random(f"{seed}:{day.isoformat()}:shop")
    count = orders_per_day if orders_per_day is not None else 10 + rng.randrange(0, 11)
    orders = []
    for index in range(1, count + 1):
        placed_at = datetime.combine(day, time(), UTC) + timedelta(seconds=rng.randrange(0, 23 * 3600))
        modified_at = placed_at + timedelta(seconds=rng.randrange(0, 1800))
        lines = []
        for product in rng.sample(PRODUCTS, rng.choice([1, 1, 1, 2, 3])):
            quantity = rng.choices([1, 2, 3], weights=[70, 20, 10])[0]
            unit_price_cents = _cents(product["unit_price"])
            discount_cents = rng.choice([0, 0, 0, unit_price_cents * quantity // 10])
            lines.append(
                {
                    "sku": product["product_id"],
                    "quantity": quantity,
                    "unit_price_cents": unit_price_cents,
                    "discount_cents": discount_cents,
                }
            )
        orders.append(
            {
                "order_id": f"W{day:%Y%m%d}-{index:04d}",
                "sales_rep": rng.choice(SELLERS)["email"],
                "customer": {"country": rng.choice(COUNTRIES), "returning": rng.random() < 0.4},
                "placed_at": placed_at.strftime(SHOP_TIMESTAMP_FORMAT),
                "modified_at": modified_at.strftime(SHOP_TIMESTAMP_FORMAT),
                "lines": lines,
            }
        )
    orders.sort(key=lambda order: (order["modified_at"], order["order_id"]))
    return tuple(orders)


def orders_between(
    start: datetime, end: datetime, *, seed: int = 42, orders_per_day: int | None = None
) -> list[dict]:
    """Orders with ``start <= modified_at < end``."""
    rows: list[dict] = []
    day = start.date()
    while datetime.combine(day, time(), UTC) < end:
        orders = orders_for_day(day, seed=seed, orders_per_day=orders_per_day)
        rows.extend(o for o in orders if start <= parse_timestamp(o["modified_at"]) < end)
        day += timedelta(days=1)
    return rows


def line_amount(line: dict) -> Decimal:
    """What a line sold for, in currency units: the shop's own arithmetic."""
    cents = line["unit_price_cents"] * line["quantity"] - line["discount_cents"]
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))
