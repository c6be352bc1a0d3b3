"""A batch: the rows of one source stream landed for one run's data interval."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from liftoff.config import landing_schema

AIRBYTE_COLUMNS = ("_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta")


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
    """The landed rows of ``source.stream`` whose cursor falls in ``interval``."""

    source: str
    stream: str
    cursor_field: str
    interval: Interval

    @property
    def batch_id(self) -> str:
        """Deterministic per source, stream and interval: a rerun replaces, never duplicates."""
        return f"{self.source}.{self.stream}.{self.interval.start.astimezone(UTC):%Y%m%dT%H%M}"

    @property
    def table(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(
            sql.Identifier(landing_schema(self.source)), sql.Identifier(self.stream)
        )

    def where(self) -> sql.Composed:
        cursor = sql.Identifier(self.cursor_field)
        return sql.SQL("{c}::timestamptz >= {s} and {c}::timestamptz < {e}").format(
            c=cursor, s=sql.Literal(self.interval.start), e=sql.Literal(self.interval.end)
        )

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

    def iter_json_chunks(self, conn: psycopg.Connection, chunk_size: int = 5000) -> Iterator[list[str]]:
        """Stream the batch as one JSON object per row (rendered by PostgreSQL), in chunks.

        A server-side cursor keeps memory flat whatever the batch's size. Must run in a
        transaction (named cursors live in one).
        """
        if not self.landing_exists(conn):
            return
        query = sql.SQL("select row_to_json(landed)::text from (select * from {} where {}) as landed").format(
            self.table, self.where()
        )
        with conn.cursor(name=f"batch_{self.source}_{self.stream}") as cur:
            cur.itersize = chunk_size
            cur.execute(query)
            while rows := cur.fetchmany(chunk_size):
                yield [row[0] for row in rows]

    def data_columns(self, conn: psycopg.Connection) -> list[str]:
        """The landing table's columns less Airbyte's bookkeeping ones."""
        rows = conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (landing_schema(self.source), self.stream),
        ).fetchall()
        return [name for (name,) in rows if name not in AIRBYTE_COLUMNS]

    def fingerprint(self, conn: psycopg.Connection) -> tuple[int, str]:
        """(rows, checksum) of the batch's content, computed in PostgreSQL.

        The checksum is the sum of the rows' md5 (first 64 bits) over the data columns:
        independent of row order and of Airbyte's ids, so the same content re-synced gives
        the same checksum and any changed value changes it.
        """
        if not self.landing_exists(conn):
            return 0, "md5sum64:0"
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in self.data_columns(conn))
        query = sql.SQL(
            "select count(*),"
            " coalesce(sum(('x' || left(md5(content::text), 16))::bit(64)::bigint::numeric), 0)"
            " from (select {} from {} where {}) as content"
        ).format(columns, self.table, self.where())
        count, total = conn.execute(query).fetchone()
        return int(count), f"md5sum64:{int(total) % (1 << 64):016x}"
