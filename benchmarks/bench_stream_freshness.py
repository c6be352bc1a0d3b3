"""Freshness of today's preview: a sale published to Kafka until it shows in ``gold_sales_today``.

Subject: ``pos_today`` scheduled by an ``AssetWatcher`` on the topic (the Kafka provider's
message-queue trigger in the triggerer: event-driven). Baseline in the same run: the same
DAG on a one-minute schedule (``LIFTOFF_PREVIEW_SCHEDULE=minute``). Each on a real
``liftoff airflow`` (api-server, scheduler, DAG processor, triggerer; LocalExecutor) with
its embedded Kafka broker and PostgreSQL: sales are published one every ``SPACING`` seconds,
each with a seller of its own, and the view is polled until every one shows. The figures
are the p95 of the per-sale latencies (p50 in the notes). Goal: p95 under 60 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.harness import Result
from liftoff.config import Settings
from liftoff.local.services import running_warehouse
from sales_api.pos import publish
from tests.airflow_deployment import start_deployment, stop_deployment
from tests.integration.test_airflow_deployment import sale_event, scheduled_day, wait_for_yesterday

SALES = 150
SPACING = 1.5  # seconds between two sales: a busy shop floor
POLL = 0.5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latencies(mode: str, home: Path) -> list[float]:
    """Per-sale seconds from publish to visible, on a deployment whose preview runs by ``mode``."""
    deployment = start_deployment(home, LIFTOFF_PREVIEW_SCHEDULE=mode)
    try:
        api = deployment.api()
        wait_for_yesterday(api, scheduled_day(api))
        servers = f"127.0.0.1:{deployment.env['LIFTOFF_KAFKA_PORT']}"
        settings = Settings(home=home, embedded_pg_port=int(deployment.env["LIFTOFF_EMBEDDED_PG_PORT"]))
        run = uuid.uuid4().hex[:6]
        published: dict[str, float] = {}
        seen: dict[str, float] = {}
        with running_warehouse(settings) as target, target.connect(autocommit=True) as conn:
            next_sale = time.monotonic()
            while len(seen) < SALES:
                now = time.monotonic()
                if len(published) < SALES and now >= next_sale:
                    seller = f"bench-{run}-{len(published)}@liftoff.example"
                    publish(servers, [sale_event(seller, 1)], stamp=False)
                    published[seller] = time.monotonic()
                    next_sale += SPACING
                rows = conn.execute(
                    "select seller_email from gold.gold_sales_today where seller_email like %s",
                    (f"bench-{run}-%",),
                ).fetchall()
                found = time.monotonic()
                for (seller,) in rows:
                    seen.setdefault(seller, found)
                if published and now - max(published.values()) > 300:
                    raise RuntimeError(f"{SALES - len(seen)} sales never showed in gold_sales_today")
                time.sleep(POLL)
        return [seen[seller] - published[seller] for seller in published]
    finally:
        stop_deployment(deployment)


def run() -> Result:
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        for mode in ("minute", "watcher"):
            figures[mode] = latencies(mode, Path(scratch) / mode)
    watcher, minute = figures["watcher"], figures["minute"]
    return Result(
        name="stream_freshness",
        subject="asset_watcher_p95",
        baseline="every_minute_p95",
        subject_seconds=[percentile(watcher, 0.95)],
        baseline_seconds=[percentile(minute, 0.95)],
        notes={
            "sales": SALES,
            "watcher_p50_s": round(statistics.median(watcher), 1),
            "minute_p50_s": round(statistics.median(minute), 1),
            "watcher_max_s": round(max(watcher), 1),
        },
    )
