"""Each stream's last 30 days of data, as the gate and the syncs recorded them in ``audit``:
batches, rows landed, accepted and rejected, the reject ratio, the most frequent quarantine
errors, how fresh the newest accepted day is, how fresh its data is (the newest cursor
accepted, against the source's ``freshness`` in sources.yaml), and the schema changes
upstream made.

Read only, in one read-only transaction (one snapshot), with any login that may read ``audit`` (the
pipeline's). The window is the stream's own: the 30 days up to its newest batch, so a
stream backfilled for an old year still shows its days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg

from liftoff.config import SourceConfig, load_sources
from liftoff.validate.freshness import classify, hours_before

WINDOW_DAYS = 30
TOP_ERRORS = 3


@dataclass(frozen=True)
class Day:
    day: date
    status: str
    landed: int
    accepted: int
    rejected: int

    @property
    def reject_ratio(self) -> float:
        judged = self.accepted + self.rejected
        return self.rejected / judged if judged else 0.0


@dataclass(frozen=True)
class TopError:
    field: str
    message: str
    rows: int


@dataclass
class StreamQuality:
    """One source's stream over its window; ``days`` newest first."""

    source: str
    stream: str
    days: list[Day] = field(default_factory=list)
    top_errors: list[TopError] = field(default_factory=list)
    newest_day: date | None = None  # the newest day the gate passed
    newest_accepted: datetime | None = None  # and its end
    hours_since_newest: float | None = None  # since that end: how current the pipeline is
    # How fresh the data is as of that newest gated batch (what its run's freshness check
    # saw): the newest cursor accepted up to it, the hours from that cursor to the batch's
    # interval end, and the status against the source's thresholds of today's sources.yaml
    # (fresh, warn, error, no data; "not checked" without them).
    newest_cursor: datetime | None = None
    cursor_hours: float | None = None
    freshness: str = "not checked"
    warn_after: float | None = None
    error_after: float | None = None
    schema_changes: int = 0
    last_schema_change: datetime | None = None
    latest_rejecting_batch: str | None = None  # for `liftoff quarantine list --batch`

    @property
    def batches(self) -> int:
        return len(self.days)

    @property
    def landed(self) -> int:
        return sum(day.landed for day in self.days)

    @property
    def accepted(self) -> int:
        return sum(day.accepted for day in self.days)

    @property
    def rejected(self) -> int:
        return sum(day.rejected for day in self.days)

    @property
    def reject_ratio(self) -> float:
        """Over the rows the gate judged (a batch not gated yet has none accepted or rejected)."""
        judged = self.accepted + self.rejected
        return self.rejected / judged if judged else 0.0

    @property
    def waiting(self) -> int:
        """Batches landed but not judged by the gate yet (or whose gate failed)."""
        return sum(day.status == "landed" for day in self.days)


# The stream's window: the WINDOW_DAYS days up to its newest batch.
_WINDOWED = """
    with newest as (
        select source, stream, max(interval_start) as start from audit.batches group by source, stream
    )
    select b.* from audit.batches b join newest n using (source, stream)
    where b.interval_start > n.start - make_interval(days => %(days)s)
"""


# Per stream, its newest gated batch and the newest cursor accepted up to it (the batches a
# run of that batch's interval checks: liftoff.validate.freshness).
_NEWEST_GATED = """
    with newest as (
        select distinct on (source, stream) source, stream, interval_start, interval_end
        from audit.batches where status in ('validated', 'archived')
        order by source, stream, interval_end desc
    )
    select n.source, n.stream, (n.interval_start at time zone 'UTC')::date, n.interval_end,
           extract(epoch from now() - n.interval_end) / 3600, max(b.newest_cursor)
    from newest n join audit.batches b
      on b.source = n.source and b.stream = n.stream and b.interval_start <= n.interval_start
         and b.status in ('validated', 'archived')
    group by n.source, n.stream, n.interval_start, n.interval_end
"""


def stream_quality(
    conn: psycopg.Connection, days: int = WINDOW_DAYS, *, sources: dict[str, SourceConfig] | None = None
) -> list[StreamQuality]:
    """Every stream with a batch, by source and stream name; freshness judged against
    ``sources`` (default: include/sources.yaml as it is now)."""
    sources = load_sources() if sources is None else sources
    params = {"days": days, "top": TOP_ERRORS}
    streams: dict[tuple[str, str], StreamQuality] = {}

    def of(source: str, stream: str) -> StreamQuality:
        return streams.setdefault((source, stream), StreamQuality(source, stream))

    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")  # one snapshot
        for source, stream, day, status, landed, accepted, rejected in conn.execute(
            f"select source, stream, (interval_start at time zone 'UTC')::date, status, landed, accepted,"
            f" rejected from ({_WINDOWED}) w order by source, stream, interval_start desc",
            params,
        ):
            of(source, stream).days.append(Day(day, status, landed, accepted, rejected))
        for source, stream, day, newest, hours, cursor in conn.execute(_NEWEST_GATED):
            quality = streams.get((source, stream))
            if quality is not None:
                quality.newest_day, quality.newest_accepted = day, newest
                quality.hours_since_newest = float(hours)
                quality.newest_cursor, quality.cursor_hours = cursor, hours_before(newest, cursor)
        for source, stream, error_field, message, rows in conn.execute(
            f"""
            select source, stream, error_field, message, rows from (
                select q.source, q.stream, e->>'field' as error_field, e->>'message' as message,
                       count(distinct q.airbyte_raw_id) as rows,
                       row_number() over (partition by q.source, q.stream
                                          order by count(distinct q.airbyte_raw_id) desc,
                                                   e->>'field', e->>'message') as rank
                from audit.quarantine q join ({_WINDOWED}) w using (batch_id),
                     jsonb_array_elements(q.errors) e
                group by q.source, q.stream, e->>'field', e->>'message'
            ) ranked where rank <= %(top)s order by source, stream, rank
            """,
            params,
        ):
            of(source, stream).top_errors.append(TopError(error_field or "", message or "", rows))
        for source, stream, batch_id in conn.execute(
            f"select distinct on (source, stream) source, stream, batch_id from ({_WINDOWED}) w"
            " where rejected > 0 order by source, stream, interval_start desc",
            params,
        ):
            of(source, stream).latest_rejecting_batch = batch_id
        for source, stream, changes, last in conn.execute(
            "select c.source, c.stream, count(*), max(c.detected_at) from audit.schema_changes c"
            " join (select source, stream, max(interval_start) as start from audit.batches"
            "       group by source, stream) n using (source, stream)"
            " where c.interval_start > n.start - make_interval(days => %(days)s)"
            " group by c.source, c.stream",
            params,
        ):
            quality = of(source, stream)
            quality.schema_changes, quality.last_schema_change = changes, last
    for (source, stream), quality in streams.items():
        configured = sources.get(source)  # a source no longer configured: not checked
        thresholds = configured.freshness_of(stream) if configured else None
        if thresholds is not None:
            quality.freshness = classify(quality.cursor_hours, thresholds)
            quality.warn_after, quality.error_after = thresholds.warn_after, thresholds.error_after
    return [streams[key] for key in sorted(streams)]
