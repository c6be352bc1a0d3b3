"""The refresh log: which days the transform has finished, and when.

``audit.refreshes`` (made by the bootstrap) is written by each run's last task; analysts
and the dashboards' freshness line read it as ``gold.gold_refreshes``, a dbt view (the
analyst role reads ``gold`` only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from liftoff.batch import Interval


@dataclass(frozen=True)
class Refresh:
    run_day: date
    run_id: str
    refreshed_at: datetime


def record_refresh(conn: psycopg.Connection, interval: Interval, run_id: str) -> None:
    """Log that the run for ``interval`` finished every dbt layer (a rerun updates its row)."""
    with conn.transaction():
        conn.execute(
            "insert into audit.refreshes (run_day, interval_start, interval_end, run_id)"
            " values (%s, %s, %s, %s) on conflict (run_day) do update set"
            " interval_start = excluded.interval_start, interval_end = excluded.interval_end,"
            " run_id = excluded.run_id, refreshed_at = now()",
            (interval.day, interval.start, interval.end, run_id),
        )


def latest_refresh(conn: psycopg.Connection) -> Refresh | None:
    """The refresh of the latest day gold holds; None before the first run."""
    exists = conn.execute("select to_regclass('gold.gold_refreshes') is not null").fetchone()[0]
    if not exists:
        return None
    row = conn.execute(
        "select run_day, run_id, refreshed_at from gold.gold_refreshes order by run_day desc limit 1"
    ).fetchone()
    return Refresh(*row) if row else None
