"""The limit for any connector of an HTTP JSON API: fetch the pages with httpx, COPY the rows.

Run as its own process by benchmarks/bench_landing.py (the demo API serves from a thread of
the benchmark's process, so the fetching must not share its interpreter, as the connector's
runner does not). Arguments: the API URL, the first day, the number of days, the page size,
the table; the PostgreSQL URL comes in ``BENCH_WAREHOUSE_URL``. The very pages the connector
fetches (one window a day, ``updated_since``/``updated_until``, ``page``/``page_size``), one
keep-alive client, every row's fields COPY-ed as text in one COPY. Prints the rows copied.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, timedelta

import httpx
import psycopg

FIELDS = ("sale_id", "seller_email", "product", "quantity", "amount", "sold_at", "updated_at")


def text(value) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


def main(api_url: str, first: str, days: str, page_size: str, table: str) -> None:
    copied = 0
    with (
        httpx.Client(base_url=api_url) as client,
        psycopg.connect(os.environ["BENCH_WAREHOUSE_URL"]) as conn,
        conn.cursor().copy(f"copy {table} ({', '.join(FIELDS)}) from stdin") as copy,
    ):
        for n in range(int(days)):
            day = date.fromisoformat(first) + timedelta(days=n)
            window = {"updated_since": f"{day}T00:00:00Z", "updated_until": f"{day}T23:59:59Z"}
            page = 1
            while True:
                params = {**window, "page": page, "page_size": int(page_size)}
                data = client.get("/sales", params=params).raise_for_status().json()["data"]
                for row in data:
                    copy.write_row([text(row.get(f)) for f in FIELDS])
                copied += len(data)
                if len(data) < int(page_size):
                    break
                page += 1
    print(copied)


if __name__ == "__main__":
    main(*sys.argv[1:])
