"""A day far quieter than its recent days waits for a person's decision before silver.

A broken upstream (a filter changed, an export cut short) looks like a quiet day: every
row is valid, there are just too few of them. A stream with ``min_volume_ratio`` in
sources.yaml is compared with the median of its last ``RECENT_DAYS`` validated batches (it
needs at least ``MIN_HISTORY`` of them). When a day lands less than that share of the
median, the contract check (the gate) reports the drop, and the source's
``approve_low_volume`` task asks a person in the Airflow UI (``liftoff.operators.low_volume``).
A run that knows the day is quiet sets ``accept_low_volume`` in its config
(``liftoff run --accept-low-volume``, or ``{"accept_low_volume": true}`` when triggering in
the UI) and is not asked.
"""

from __future__ import annotations

import statistics

import psycopg

from liftoff.batch import Batch

RECENT_DAYS = 7
MIN_HISTORY = 3


def recent_volumes(conn: psycopg.Connection, batch: Batch) -> list[int]:
    rows = conn.execute(
        "select landed from audit.batches where source = %s and stream = %s and interval_start < %s"
        " and status in ('validated', 'archived') order by interval_start desc limit %s",
        (batch.source, batch.stream, batch.interval.start, RECENT_DAYS),
    ).fetchall()
    return [landed for (landed,) in rows]


def volume_drop(conn: psycopg.Connection, batch: Batch, landed: int, min_ratio: float | None) -> str | None:
    """What is wrong when ``landed`` is under ``min_ratio`` of the recent median, in one line;
    None when the day is within it (or the stream has no ratio, or too little history)."""
    if min_ratio is None:
        return None
    recent = recent_volumes(conn, batch)
    if len(recent) < MIN_HISTORY:
        return None
    median = statistics.median(recent)
    if landed >= min_ratio * median:
        return None
    return (
        f"batch {batch.batch_id} landed {landed} rows, under {min_ratio:.0%} of the median of its last"
        f" {len(recent)} days ({median:g})"
    )
