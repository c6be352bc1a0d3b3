"""Each stream's last 30 days of data, as the gate and the syncs recorded them in ``audit``:
batches, rows landed, accepted and rejected, the reject ratio, the most frequent quarantine
errors, how fresh the newest accepted day is, and the schema changes upstream made.

Read only, in one read-only transaction (one snapshot), with any login that may read ``audit`` (the
pipeline's). The window is the stream's own: the 30 days up to its newest batch, so a
stream backfilled for an old year still shows its days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg

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
    hours_since_newest: float | None = None  # since that end: how fresh the stream is
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


def stream_quality(conn: psycopg.Connection, days: int = WINDOW_DAYS) -> list[StreamQuality]:
    """Every stream with a batch, by source and stream name."""
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
        for source, stream, day, newest, hours in conn.execute(
            "select distinct on (source, stream) source, stream, (interval_start at time zone 'UTC')::date,"
            " interval_end, extract(epoch from now() - interval_end) / 3600"
            " from audit.batches where status in ('validated', 'archived')"
            " order by source, stream, interval_end desc"
        ):
            quality = streams.get((source, stream))
            if quality is not None:
                quality.newest_day, quality.newest_accepted = day, newest
                quality.hours_since_newest = float(hours)
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
    return [streams[key] for key in sorted(streams)]
