"""The refresh log in ``gold``: which days the transform has finished, and when.

Written by each run's last task, read by the dashboards' freshness line (the analyst role
reads ``gold`` only, so the log lives there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from liftoff.batch import Interval

REFRESHES_DDL = """
create table if not exists gold.refreshes (
    run_day         date primary key,
    interval_start  timestamptz not null,
    interval_end    timestamptz not null,
    run_id          text not null,
    refreshed_at    timestamptz not null default now()
)
"""


@dataclass(frozen=True)
class Refresh:
    run_day: date
    run_id: str
    refreshed_at: datetime


def record_refresh(conn: psycopg.Connection, interval: Interval, run_id: str) -> None:
    """Log that the run for ``interval`` finished every dbt layer (a rerun updates its row)."""
    with conn.transaction():
        conn.execute("create schema if not exists gold")
        conn.execute(REFRESHES_DDL)
        conn.execute(
            "insert into gold.refreshes (run_day, interval_start, interval_end, run_id)"
            " values (%s, %s, %s, %s) on conflict (run_day) do update set"
            " interval_start = excluded.interval_start, interval_end = excluded.interval_end,"
            " run_id = excluded.run_id, refreshed_at = now()",
            (interval.day, interval.start, interval.end, run_id),
        )


def latest_refresh(conn: psycopg.Connection) -> Refresh | None:
    """The refresh of the latest day gold holds; None before the first run."""
    exists = conn.execute("select to_regclass('gold.refreshes') is not null").fetchone()[0]
    if not exists:
        return None
    row = conn.execute(
        "select run_day, run_id, refreshed_at from gold.refreshes order by run_day desc limit 1"
    ).fetchone()
    return Refresh(*row) if row else None
