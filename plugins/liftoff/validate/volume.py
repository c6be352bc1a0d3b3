"""A day far quieter than its recent days stops before transform, unless the run says so.

A broken upstream (a filter changed, an export cut short) looks like a quiet day: every
row valid, just too few of them. A stream with ``min_volume_ratio`` in sources.yaml is
compared with the median of its last ``RECENT_DAYS`` validated batches (at least
``MIN_HISTORY`` of them); under that share of it, the validation fails with the numbers and
what to do. A run that knows the day is quiet passes ``accept_low_volume`` (the run's
config: ``liftoff run --accept-low-volume``, or ``{"accept_low_volume": true}`` when
triggering in the UI).
"""

from __future__ import annotations

import statistics

import psycopg

from liftoff.batch import Batch

RECENT_DAYS = 7
MIN_HISTORY = 3


class VolumeDrop(RuntimeError):
    """The batch landed far fewer rows than its recent days."""


def recent_volumes(conn: psycopg.Connection, batch: Batch) -> list[int]:
    rows = conn.execute(
        "select landed from audit.batches where source = %s and stream = %s and interval_start < %s"
        " and status in ('validated', 'archived') order by interval_start desc limit %s",
        (batch.source, batch.stream, batch.interval.start, RECENT_DAYS),
    ).fetchall()
    return [landed for (landed,) in rows]


def check_volume(
    conn: psycopg.Connection, batch: Batch, landed: int, min_ratio: float | None, *, accept_low: bool
) -> None:
    """Raise VolumeDrop when ``landed`` is under ``min_ratio`` of the recent median."""
    if min_ratio is None:
        return
    recent = recent_volumes(conn, batch)
    if len(recent) < MIN_HISTORY:
        return
    median = statistics.median(recent)
    if landed >= min_ratio * median or accept_low:
        return
    raise VolumeDrop(
        f"batch {batch.batch_id} landed {landed} rows, under {min_ratio:.0%} of the median of its last"
        f" {len(recent)} days ({median:g}): check the source; if the day is really this quiet, rerun it"
        " with accept_low_volume (liftoff run --accept-low-volume, or the run's config in the UI)"
    )
