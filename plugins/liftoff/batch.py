"""A batch: the rows of one source stream landed for one run's data interval."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from liftoff.config import landing_schema
from liftoff.ingest.landing_layout import BOOKKEEPING_COLUMNS

PARTIAL_DAY = "partial_day"  # the run config key that lets a run of a day that has not ended go on


def day_not_ended(day: date, instead: str) -> str:
    """The one line refusing a run of a day that has not ended: what to do ``instead``."""
    return f"{day} has not ended yet (UTC): {instead}"


@dataclass(frozen=True)
class Interval:
    """A data interval [start, end), both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"empty data interval [{self.start}, {self.end}): use a data-interval timetable")

    @classmethod
    def for_day(cls, day: date) -> Interval:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return cls(start, start + timedelta(days=1))

    @property
    def day(self) -> date:
        return self.start.astimezone(UTC).date()


@dataclass(frozen=True)
class Batch:
    """The landed rows of ``source.stream`` for one run's ``interval``.

    For a stream with a ``cursor_field`` (incremental), the batch holds:

    - the rows whose cursor falls in the interval;
    - the run's rows with no readable cursor, so that the gate (the contract check,
      ``liftoff.validate.gate``) quarantines them with their reason and no landed row is
      outside every batch. For a pushed source these are the rows written in the interval
      (``_airbyte_extracted_at``); for a synced source, the rows the run's sync landed
      (listed in ``audit.landed_uncursored``).

    For a stream without a cursor (a full-refresh reference stream), the batch is the whole
    snapshot the run landed. Cursors are read as text through ``audit.cursor_time``, so a
    value that is not a time never breaks a query.
    """

    source: str
    stream: str
    cursor_field: str | None
    interval: Interval
    pushed: bool = False
    # Landing may change while the run goes on (an app's pushes, a stream source's preview
    # of today). When set, the gate records the ids of the rows it judged, and bronze takes
    # only those.
    records_gated: bool = False

    @classmethod
    def of(
        cls,
        source: str,
        stream: str,
        config,
        interval: Interval,
        *,
        pushed: bool = False,
        records_gated: bool = False,
    ) -> Batch:
        """The batch of a configured stream (a ``liftoff.config.StreamConfig``)."""
        cursor = config.cursor_field if config.sync == "incremental" else None
        return cls(source, stream, cursor, interval, pushed, records_gated or pushed)

    @classmethod
    def all_of(cls, name: str, source, interval: Interval) -> list[Batch]:
        """The batches of every stream of a configured source (a ``liftoff.config.SourceConfig``)."""
        return [
            cls.of(
                name,
                stream,
                config,
                interval,
                pushed=source.is_pushed,
                records_gated=source.is_pushed or source.is_streamed,
            )
            for stream, config in source.streams.items()
        ]

    @property
    def batch_id(self) -> str:
        """Deterministic per source, stream and interval: a rerun replaces, never duplicates."""
        return f"{self.source}.{self.stream}.{self.interval.start.astimezone(UTC):%Y%m%dT%H%M}"

    @property
    def table(self) -> sql.Identifier:
        return sql.Identifier(landing_schema(self.source), self.stream)

    def cursor(self, alias: str | None = None) -> sql.Composable:
        """The row's cursor as a time, or null when it is missing or no time."""
        column = sql.Identifier(*([alias] if alias else []), self.cursor_field)
        return sql.SQL("audit.cursor_time({}::text)").format(column)

    def where(self, alias: str | None = None, cursor: sql.Composable | None = None) -> sql.Composable:
        """A SQL condition selecting the batch's rows. ``cursor``: the row's cursor, if it is
        computed already (else it is computed here)."""
        if self.cursor_field is None:
            return sql.SQL("true")
        cursor = cursor or self.cursor(alias)
        in_window = sql.SQL("({c} >= {s} and {c} < {e})").format(
            c=cursor, s=sql.Literal(self.interval.start), e=sql.Literal(self.interval.end)
        )
        return sql.SQL("({} or {})").format(in_window, self._uncursored(alias, cursor))

    def _uncursored(self, alias: str | None = None, cursor: sql.Composable | None = None) -> sql.Composable:
        """The batch's rows with no readable cursor: a pushed source's written in the interval
        (the writer sets ``_airbyte_extracted_at`` in UTC, as Airbyte does), a synced source's
        that this run's sync landed."""
        column = functools.partial(sql.Identifier, *([alias] if alias else []))
        start = sql.Literal(self.interval.start)
        if self.pushed:
            return sql.SQL(
                "({c} is null and {x} >= ({s} at time zone 'UTC') and {x} < ({e} at time zone 'UTC'))"
            ).format(
                c=cursor or self.cursor(alias),
                x=column("_airbyte_extracted_at"),
                s=start,
                e=sql.Literal(self.interval.end),
            )
        return sql.SQL(
            "{} in (select airbyte_raw_id from audit.landed_uncursored"
            " where source = {} and stream = {} and interval_start = {})"
        ).format(column("_airbyte_raw_id"), sql.Literal(self.source), sql.Literal(self.stream), start)

    def uncursored_ids(self, conn: psycopg.Connection) -> set[str]:
        """The batch's rows with no readable cursor (the gate rejects them)."""
        if self.cursor_field is None or not self.landing_exists(conn):
            return set()
        if not self.pushed:  # the run's list itself: no scan of landing
            query = sql.SQL(
                "select airbyte_raw_id from audit.landed_uncursored"
                " where source = %s and stream = %s and interval_start = %s"
            )
            rows = conn.execute(query, (self.source, self.stream, self.interval.start))
        else:
            rows = conn.execute(
                sql.SQL("select _airbyte_raw_id from {} where {}").format(self.table, self._uncursored())
            )
        return {raw_id for (raw_id,) in rows}

    def nulled_fields(self, conn: psycopg.Connection) -> dict[str, list[dict]]:
        """The batch's rows in which landing had to null a field, with those changes
        (``NULLED`` changes in ``_airbyte_meta``: a value PostgreSQL cannot store, or a message
        that is not an event). The gate rejects these rows with the reasons."""
        if not self.landing_exists(conn) or "_airbyte_meta" not in self._columns(conn):
            return {}
        rows = conn.execute(
            sql.SQL(
                "select _airbyte_raw_id, _airbyte_meta::text from {} where {}"
                " and strpos(_airbyte_meta::text, 'NULLED') > 0"  # clean rows: no JSON parsed
            ).format(self.table, self.where())
        )
        nulled = {}
        for raw_id, meta in rows:
            changes = json.loads(meta).get("changes") or []
            if found := [c for c in changes if isinstance(c, dict) and c.get("change") == "NULLED"]:
                nulled[raw_id] = found
        return nulled

    def landing_exists(self, conn: psycopg.Connection) -> bool:
        found = conn.execute(
            "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
            (landing_schema(self.source), self.stream),
        ).fetchone()
        return found is not None

    def count(self, conn: psycopg.Connection) -> int:
        if not self.landing_exists(conn):
            return 0
        query = sql.SQL("select count(*) from {} where {}").format(self.table, self.where())
        return int(conn.execute(query).fetchone()[0])

    def delete_landed(self, conn: psycopg.Connection) -> int:
        """Remove this interval's landed rows, before a re-sync of the same window."""
        if not self.landing_exists(conn):
            return 0
        return conn.execute(sql.SQL("delete from {} where {}").format(self.table, self.where())).rowcount

    def iter_json_chunks(
        self,
        conn: psycopg.Connection,
        chunk_size: int = 5000,
        *,
        data_only: bool = True,
        cursor: bool = False,
    ) -> Iterator[list[tuple]]:
        """Stream the batch as (``_airbyte_raw_id``, row as a JSON object) pairs, in chunks.

        ``data_only``: the JSON holds the data columns only (what contracts judge and
        checksums cover); otherwise the whole landed row, Airbyte's columns included.
        ``cursor`` (with ``data_only``, on a stream with a cursor): a third item, the row's
        cursor as a time (None when it has none). PostgreSQL renders the JSON; a server-side
        cursor keeps memory flat whatever the batch's size. Must run in a transaction (named
        cursors live in one).
        """
        if not self.landing_exists(conn):
            return
        if data_only:
            columns = self.data_columns(conn)
            data = sql.SQL(", ").join(sql.SQL("landed.{}").format(sql.Identifier(c)) for c in columns)
            if cursor and self.cursor_field:  # computed once a row (`offset 0`: not inlined twice)
                query = sql.SQL(
                    "select landed._airbyte_raw_id, row_to_json(content)::text, k.cursor from {} as landed"
                    " cross join lateral (select {} as cursor offset 0) as k"
                    " cross join lateral (select {}) as content where {}"
                ).format(self.table, self.cursor("landed"), data, self.where("landed", sql.SQL("k.cursor")))
            else:
                query = sql.SQL(
                    "select landed._airbyte_raw_id, row_to_json(content)::text from {} as landed"
                    " cross join lateral (select {}) as content where {}"
                ).format(self.table, data, self.where("landed"))
        else:
            query = sql.SQL(
                "select _airbyte_raw_id, row_to_json(landed)::text from {} as landed where {}"
            ).format(self.table, self.where())
        with conn.cursor(name=f"batch_{self.source}_{self.stream}") as cur:
            cur.itersize = chunk_size
            cur.execute(query)
            while rows := cur.fetchmany(chunk_size):
                yield rows

    def data_columns(self, conn: psycopg.Connection) -> list[str]:
        """The landing table's columns less the bookkeeping ones (Airbyte's, Kafka's)."""
        return [name for name in self._columns(conn) if name not in BOOKKEEPING_COLUMNS]

    def bookkeeping_columns(self, conn: psycopg.Connection) -> list[str]:
        """The landing table's bookkeeping columns (Airbyte's; a stream's partition, offset, time)."""
        return [name for name in self._columns(conn) if name in BOOKKEEPING_COLUMNS]

    def _columns(self, conn: psycopg.Connection) -> list[str]:
        rows = conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (landing_schema(self.source), self.stream),
        ).fetchall()
        return [name for (name,) in rows]
