"""How fresh a source's data is, as the data says, against its ``freshness`` in sources.yaml.

A sync that runs but brings nothing new, or an upstream whose rows stopped changing, still
lands on time: the time of the sync says nothing about the data. So the gate (the contract
check, ``liftoff.validate.gate``) records the newest cursor of each batch's accepted rows in
``audit.batches.newest_cursor``. A run of the interval [start, end) measures each incremental
stream as ``end`` minus the newest of those cursors, over the stream's validated batches up
to its own (``interval_start <= start``). Because it measures against the interval's end,
not now, a backfill of an old day is judged on that day's data, and a later day's batch
does not make it look fresher or staler.

Over ``warn_after`` hours a warning is logged; over ``error_after`` the check raises
:class:`StaleSource` with one line (the run stops before silver and on-call is alerted:
docs/runbook.md#a-source-is-stale). A stream with no accepted cursor yet is "no data": a
warning, as a new source's first empty days are.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from liftoff.config import FreshnessConfig, SourceConfig
from liftoff.errors import Permanent

if TYPE_CHECKING:  # the LiftOff page imports the classification, not the warehouse's client
    from liftoff.batch import Interval
    from liftoff.warehouse.location import Warehouse

log = logging.getLogger(__name__)

RUNBOOK = "docs/runbook.md#a-source-is-stale"
Status = Literal["fresh", "warn", "error", "no data"]

# The newest accepted cursor of each stream over its gated batches up to a run's interval.
NEWEST_CURSOR_SQL = """
    select stream, max(newest_cursor) from audit.batches
    where source = %s and stream = any(%s) and interval_start <= %s and status in ('validated', 'archived')
    group by stream
"""


class StaleSource(Permanent):
    """A stream's newest accepted cursor is older than its source's ``error_after``."""


def hours_before(end: datetime, newest: datetime | None) -> float | None:
    """Hours from ``newest`` to ``end``, or None when nothing was accepted."""
    return None if newest is None else (end - newest).total_seconds() / 3600


def classify(hours: float | None, thresholds: FreshnessConfig) -> Status:
    """A stream's status: over ``error_after`` error, over ``warn_after`` warn."""
    if hours is None:
        return "no data"
    if thresholds.error_after is not None and hours > thresholds.error_after:
        return "error"
    if thresholds.warn_after is not None and hours > thresholds.warn_after:
        return "warn"
    return "fresh"


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def check_freshness(
    name: str, source: SourceConfig, interval: Interval, target: Warehouse
) -> dict[str, dict]:
    """Each checked stream's freshness at the end of ``interval``; raise StaleSource when one
    is over its source's ``error_after``. A source without ``freshness:`` is not checked."""
    thresholds = source.freshness
    if thresholds is None:
        return {}
    streams = source.fresh_streams()
    with target.connect() as conn:
        newest = dict(conn.execute(NEWEST_CURSOR_SQL, (name, streams, interval.start)).fetchall())
    day_end = f"{interval.day}'s end ({_when(interval.end)})"
    results: dict[str, dict] = {}
    stale = []
    for stream in streams:
        cursor = newest.get(stream)
        hours = hours_before(interval.end, cursor)
        status = classify(hours, thresholds)
        results[stream] = {
            "newest_cursor": cursor.isoformat() if cursor else None,
            "hours": round(hours, 2) if hours is not None else None,
            "status": status,
            "warn_after": thresholds.warn_after,
            "error_after": thresholds.error_after,
        }
        if status == "no data":
            log.warning("%s.%s has no accepted row with a cursor up to %s yet", name, stream, day_end)
        elif status == "warn":
            log.warning(
                "%s.%s: newest cursor landed %s, %.1f hours before %s: over warn_after (%g h)",
                *(name, stream, _when(cursor), hours, day_end, thresholds.warn_after),
            )
        elif status == "error":
            field = source.streams[stream].cursor_field
            newest_landed = f"its newest {field} landed is {_when(cursor)}"
            stale.append(f"{name}.{stream} is stale: {newest_landed}, {hours:.1f} hours")
    if stale:
        raise StaleSource(
            f"{'; '.join(stale)} before {day_end}, over error_after ({thresholds.error_after:g} h,"
            f" include/sources.yaml sources.{name}.freshness.error_after): check that {name} still"
            " brings new rows (the source itself, the run's ingest log) and that the gate accepts them"
            f" (liftoff quarantine list); runbook: {RUNBOOK}"
        )
    return results
