"""What silver and gold must hold, computed from the demo APIs' rows in plain Python.

No SQL and no dbt: the rules of silver_sales (latest version per source record, outliers
by the robust per-product rule) and the gold arithmetic written again, run day by day in
the order the DAG runs them, so a test can compare the warehouse to an independent answer.
"""

from __future__ import annotations

import os
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import httpx

from sales_api.shop import DEMO_SHOP_TOKEN, line_amount

# The dbt project's vars (include/dbt/dbt_project.yml).
GOLD_WINDOW_DAYS = 7
GOLD_DAILY_LOOKBACK_DAYS = 6
OUTLIER_WINDOW_DAYS = 28
OUTLIER_THRESHOLD = Decimal("3.5")
OUTLIER_MIN_SPREAD = Decimal("0.1")
OUTLIER_MIN_OBSERVATIONS = 5
CONTRACT_DIRT = {"bad_email", "negative_amount", "impossible_date"}  # the kinds the Sale contract rejects


def _pages(api_url: str, path: str, params: dict, headers: dict | None = None) -> list[dict]:
    rows, page = [], 1
    while True:
        data = httpx.get(
            f"{api_url}{path}", params={**params, "page": page, "page_size": 1000}, headers=headers
        ).json()["data"]
        rows += data
        if len(data) < 1000:
            return rows
        page += 1


def crm_headers() -> dict:
    """The CRM's key, as the pipeline sends it (``LIFTOFF_API_KEY``), if there is one."""
    key = os.environ.get("LIFTOFF_API_KEY")
    return {"X-API-Key": key} if key else {}


def api_sales(api_url: str, day: date) -> list[dict]:
    """The CRM's sales updated on ``day``."""
    window = {"updated_since": f"{day}T00:00:00Z", "updated_until": f"{day}T23:59:59Z"}
    return _pages(api_url, "/sales", window, crm_headers())


def api_orders(api_url: str, day: date) -> list[dict]:
    """The shop's orders modified on ``day``."""
    orders, cursor = [], None
    while True:
        params = {"modified_from": f"{day}T00:00:00Z", "modified_to": f"{day + timedelta(days=1)}T00:00:00Z"}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(
            f"{api_url}/shop/orders",
            params=params,
            headers={"X-Shop-Token": os.environ.get("LIFTOFF_SHOP_TOKEN", DEMO_SHOP_TOKEN)},
        ).json()
        orders += page["orders"]
        cursor = page["next_cursor"]
        if not cursor:
            return orders


def contract_rejects(api_url: str, day: date) -> set[str]:
    """The sale ids the API made invalid on ``day`` (from its own report of the dirt)."""
    dirty = httpx.get(f"{api_url}/_dirty", params={"day": day.isoformat()}, headers=crm_headers()).json()[
        "dirty"
    ]
    return {d["sale_id"] for d in dirty if d["kind"] in CONTRACT_DIRT}


@dataclass
class ExpectedWarehouse:
    """Silver and gold as the DAG must leave them after running the given days in order."""

    api_url: str
    product_names: dict[str, str] = field(default_factory=dict)
    silver: dict[str, list[dict]] = field(default_factory=dict)  # record id -> its sales
    daily: dict[date, tuple] = field(default_factory=dict)
    by_product: dict[date, dict[str, tuple]] = field(default_factory=dict)
    by_seller: dict[date, dict[str, tuple]] = field(default_factory=dict)
    # what the point-of-sale simulator published (``sales_api.pos.Message``), if the stream ran
    pos_messages: list = field(default_factory=list)

    def __post_init__(self) -> None:
        products = httpx.get(
            f"{self.api_url}/products", params={"page_size": 1000}, headers=crm_headers()
        ).json()["data"]
        self.product_names = {p["product_id"]: p["name"] for p in products}

    def batch(self, day: date) -> dict[str, list[dict]]:
        """The day's versions, per record: CRM sales and shop order lines, latest version first."""
        rejected = contract_rejects(self.api_url, day)
        ids = {name: pid for pid, name in self.product_names.items()}
        versions: dict[str, list[list[dict]]] = defaultdict(list)
        for row in api_sales(self.api_url, day):
            if row["sale_id"] in rejected:
                continue
            sale = {
                "sale_id": row["sale_id"],
                "seller_email": row["seller_email"].strip().lower(),
                "product_id": ids.get(row["product"]),
                "product": row["product"],
                "quantity": int(row["quantity"]),
                "amount": Decimal(row["amount"]),
                "sale_date": date.fromisoformat(row["sold_at"][:10]),
                "updated_at": row["updated_at"],
            }
            versions[row["sale_id"]].append([sale])
        for order in api_orders(self.api_url, day):
            lines = [
                {
                    "sale_id": f"{order['order_id']}#{number}",
                    "seller_email": order["sales_rep"].strip().lower(),
                    "product_id": line["sku"],
                    "product": self.product_names.get(line["sku"], line["sku"]),
                    "quantity": line["quantity"],
                    "amount": line_amount(line),
                    "sale_date": date.fromisoformat(order["placed_at"][:10]),
                    "updated_at": order["modified_at"][:19] + "Z",
                }
                for number, line in enumerate(order["lines"], start=1)
            ]
            versions[order["order_id"]].append(lines)
        for event in self.pos_received(day):  # the broker's time is the cursor: what arrived that day
            sale = {
                "sale_id": event["sale_id"],
                "seller_email": event["seller_email"].strip().lower(),
                "product_id": ids.get(event["product"]),
                "product": event["product"],
                "quantity": int(event["quantity"]),
                "amount": Decimal(event["amount"]),
                "sale_date": date.fromisoformat(event["sold_at"][:10]),
                "updated_at": event["_arrival"],
            }
            versions[event["sale_id"]].append([sale])
        return {
            record: max(found, key=lambda sales: sales[0]["updated_at"]) for record, found in versions.items()
        }

    def pos_received(self, day: date) -> list[dict]:
        """The point-of-sale events the broker received on ``day`` (malformed ones are quarantined)."""
        return [
            {**m.event, "_arrival": m.arrival.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
            for m in self.pos_messages
            if m.event is not None and m.arrival.date() == day
        ]

    def run(self, day: date) -> None:
        """What one run of ``day`` does to silver and gold."""
        batch = self.batch(day)
        winners: dict[str, list[dict]] = {}
        for record, sales in batch.items():
            current = self.silver.get(record)
            winners[record] = (
                current if current and current[0]["updated_at"] > sales[0]["updated_at"] else sales
            )
        window_start = day - timedelta(days=OUTLIER_WINDOW_DAYS - 1)
        population: dict[str, list[Decimal]] = defaultdict(list)
        for sales in winners.values():
            for s in sales:
                population[s["product_id"] or s["product"]].append(s["amount"] / s["quantity"])
        for record, sales in self.silver.items():
            if record not in winners:
                for s in sales:
                    if window_start <= s["sale_date"] <= day:
                        population[s["product_id"] or s["product"]].append(s["amount"] / s["quantity"])
        for record, sales in winners.items():
            self.silver[record] = [{**s, "is_outlier": self._is_outlier(s, population)} for s in sales]
        self._gold(day)

    @staticmethod
    def _is_outlier(sale: dict, population: dict[str, list[Decimal]]) -> bool:
        prices = population[sale["product_id"] or sale["product"]]
        if len(prices) < OUTLIER_MIN_OBSERVATIONS:
            return False
        median = statistics.median(prices)
        mad = statistics.median(abs(p - median) for p in prices)
        spread = max(Decimal("1.4826") * mad, OUTLIER_MIN_SPREAD * median)
        return abs(sale["amount"] / sale["quantity"] - median) > OUTLIER_THRESHOLD * spread

    def sales(self) -> list[dict]:
        return [s for sales in self.silver.values() for s in sales if not s["is_outlier"]]

    def _gold(self, day: date) -> None:
        sales = self.sales()
        for offset in range(GOLD_DAILY_LOOKBACK_DAYS + 1):
            self.daily.pop(day - timedelta(days=offset), None)
        totals: dict[date, list] = defaultdict(lambda: [0, 0, Decimal(0), set()])
        for s in sales:
            if day - timedelta(days=GOLD_DAILY_LOOKBACK_DAYS) <= s["sale_date"] <= day:
                entry = totals[s["sale_date"]]
                entry[0] += 1
                entry[1] += s["quantity"]
                entry[2] += s["amount"]
                entry[3].add(s["seller_email"])
        self.daily.update({d: (v[0], v[1], v[2], len(v[3])) for d, v in totals.items()})
        for key, target in (("product", self.by_product), ("seller_email", self.by_seller)):
            groups: dict[str, list] = defaultdict(lambda: [0, 0, Decimal(0)])
            for s in sales:
                if day - timedelta(days=GOLD_WINDOW_DAYS - 1) <= s["sale_date"] <= day:
                    groups[s[key]][0] += 1
                    groups[s[key]][1] += s["quantity"]
                    groups[s[key]][2] += s["amount"]
            target[day] = {k: tuple(v) for k, v in groups.items()}

    def outliers(self) -> set[str]:
        return {s["sale_id"] for sales in self.silver.values() for s in sales if s["is_outlier"]}


def expected_after(api_url: str, days: list[date], pos_messages: list | None = None) -> ExpectedWarehouse:
    """The expected warehouse after running ``days`` in order (with the point-of-sale stream's
    ``pos_messages`` if it ran)."""
    expected = ExpectedWarehouse(api_url, pos_messages=pos_messages or [])
    for day in days:
        expected.run(day)
    return expected


def gold_in(conn, days: list[date]) -> dict:
    """The warehouse's gold, in the shapes ExpectedWarehouse uses."""
    daily = {
        r[0]: tuple(r[1:])
        for r in conn.execute(
            "select sale_date, sales, units, revenue, active_sellers from gold.gold_sales_daily"
        )
    }
    found = {"daily": daily, "product": {}, "seller_email": {}}
    for key, table in (("product", "gold_sales_by_product_7d"), ("seller_email", "gold_sales_by_seller_7d")):
        for as_of in days:
            found[key][as_of] = {
                r[0]: tuple(r[1:])
                for r in conn.execute(
                    f"select {key}, sales, units, revenue from gold.{table} where as_of_date = %s", (as_of,)
                )
            }
    return found


def assert_gold_matches(conn, expected: ExpectedWarehouse, days: list[date]) -> None:
    found = gold_in(conn, days)
    assert found["daily"] == expected.daily, {
        day: (found["daily"].get(day), expected.daily.get(day))
        for day in sorted(set(found["daily"]) | set(expected.daily))
        if found["daily"].get(day) != expected.daily.get(day)
    }
    for as_of in days:
        assert found["product"][as_of] == expected.by_product[as_of], ("by product", as_of)
        assert found["seller_email"][as_of] == expected.by_seller[as_of], ("by seller", as_of)
    catalogue = httpx.get(
        f"{expected.api_url}/products", params={"page_size": 1000}, headers=crm_headers()
    ).json()["data"]
    products = conn.execute("select product_id, name, unit_price::text from gold.gold_products order by 1")
    assert products.fetchall() == sorted((p["product_id"], p["name"], p["unit_price"]) for p in catalogue), (
        "gold_products is the API's catalogue"
    )
