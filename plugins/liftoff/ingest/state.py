"""Incremental sync state per source stream, kept in ``audit.sync_state`` (local mode).

The cursor is where the next run continues from: the furthest interval end synced. A run
whose interval starts at the cursor continues; one that starts after it leaves a gap (days
never synced, named with the command that fills them); one that ends at or before it
re-syncs a window already passed (a rerun or a backfill) and leaves the cursor where it is.
An Airbyte server keeps its connections' state itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import psycopg

from liftoff.batch import Batch, Interval

log = logging.getLogger(__name__)


class Continuity(StrEnum):
    FIRST = "first sync"
    CONTINUES = "continues from the cursor"
    GAP = "leaves a gap after the cursor"
    RESYNC = "re-syncs a window before the cursor"


@dataclass(frozen=True)
class StreamState:
    source: str
    stream: str
    cursor: datetime
    last_interval: Interval
    last_rows: int

    def continuity(self, interval: Interval) -> Continuity:
        if interval.start == self.cursor:
            return Continuity.CONTINUES
        if interval.start > self.cursor:
            return Continuity.GAP
        return Continuity.RESYNC

    def gap_before(self, interval: Interval) -> list[date]:
        """The days between the cursor and ``interval`` that were never synced."""
        days, day = [], self.cursor.date()
        while day < interval.start.date():
            days.append(day)
            day += timedelta(days=1)
        return days


def read_state(conn: psycopg.Connection, source: str, stream: str) -> StreamState | None:
    """The stream's state, or None if it was never synced here."""
    if conn.execute("select to_regclass('audit.sync_state')").fetchone()[0] is None:
        return None
    row = conn.execute(
        "select cursor, last_interval_start, last_interval_end, last_rows from audit.sync_state"
        " where source = %s and stream = %s",
        (source, stream),
    ).fetchone()
    if row is None:
        return None
    return StreamState(source, stream, row[0], Interval(row[1], row[2]), row[3])


def check_continuity(conn: psycopg.Connection, batch: Batch) -> Continuity:
    """Log how the batch's window relates to the stream's cursor; warn about a gap."""
    state = read_state(conn, batch.source, batch.stream)
    if state is None:
        return Continuity.FIRST
    continuity = state.continuity(batch.interval)
    if continuity is Continuity.GAP:
        gap = state.gap_before(batch.interval)
        log.warning(
            "%s.%s: the cursor is at %s, this run starts at %s: %d day(s) never synced (%s to %s);"
            " fill them with `airflow backfill create --dag-id sales_elt --from-date %s --to-date %s`",
            batch.source,
            batch.stream,
            state.cursor.isoformat(),
            batch.interval.start.isoformat(),
            len(gap),
            gap[0],
            gap[-1],
            gap[0],
            gap[-1],
        )
    else:
        log.info("%s.%s: %s (%s)", batch.source, batch.stream, continuity, state.cursor.isoformat())
    return continuity


def record_sync(conn: psycopg.Connection, batch: Batch, rows: int) -> None:
    """Record a successful sync of ``batch``'s window: the cursor only ever moves forward."""
    conn.execute(
        "insert into audit.sync_state as s"
        " (source, stream, cursor, last_interval_start, last_interval_end, last_rows)"
        " values (%(source)s, %(stream)s, %(end)s, %(start)s, %(end)s, %(rows)s)"
        " on conflict (source, stream) do update set"
        " cursor = greatest(s.cursor, excluded.cursor), last_interval_start = excluded.last_interval_start,"
        " last_interval_end = excluded.last_interval_end, last_rows = excluded.last_rows, synced_at = now()",
        {
            "source": batch.source,
            "stream": batch.stream,
            "start": batch.interval.start,
            "end": batch.interval.end,
            "rows": rows,
        },
    )
