"""Land a run's interval of a Kafka topic in ``raw_<source>.<stream>``, exactly once in effect.

Per partition, the offsets whose broker timestamps fall in the interval are found with
``offsets_for_times`` (the first offset at or after its start, the first at or after its
end): with ``LogAppendTime`` (the broker's clock) timestamps only grow along a partition, so
a day is one contiguous range of offsets, the same at every rerun once the day has ended.
Those messages replace the interval's slice of the landing table in one transaction: a
rerun reads the same offsets and writes the same rows; no consumer offset is committed.

The table keeps Airbyte's raw layout (the contract's fields as text, ``_airbyte_raw_id`` =
``<topic>:<partition>:<offset>``, ``_airbyte_extracted_at``, ``_airbyte_meta``) plus the
message's ``_kafka_partition``, ``_kafka_offset`` and ``_kafka_timestamp``; the contract's
cursor (``updated_at``) is the broker timestamp, so the batch of a run is what the broker
received in its interval. A message that is not a JSON object lands with its fields empty
and the reason in ``_airbyte_meta``: the gate quarantines it, under its topic, partition and
offset, and so does a value PostgreSQL's text cannot hold (a NUL, a lone surrogate) or JSON
nested past Python's recursion limit: one poison message never blocks a day. A day any of
whose messages the broker may have deleted (past the topic's retention: a partition's
first offset moved past what was landed) fails in one line that points to the archive,
before anything is deleted; so does an offset deleted while it is read.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
from psycopg import sql

from liftoff.batch import Interval
from liftoff.config import ConfigError, Unavailable
from liftoff.ingest.landing_layout import (
    AIRBYTE_COLUMNS,
    CLEAN_META,
    KAFKA_COLUMNS,
    nulled,
    nulled_meta,
)
from liftoff.stream.topics import client_config

CURSOR = "updated_at"
BATCH = 10_000
STALL_SECONDS = 60  # no message for this long while some are still due: the broker is down
LOOKUP_SECONDS = 30  # a lookup of offsets retried this long (a leader elected, a broker back)
# A broker whose clock is behind ours still stamps messages with the day just ended: a run
# that starts at midnight waits this long after its interval's end before it reads.
CLOCK_GRACE = timedelta(minutes=2)
# A topic whose producers stamp the messages (CreateTime): a message of the interval appended
# later is looked for up to the offsets stamped this long after the interval's end.
LATE_WINDOW = timedelta(days=7)


class PastRetention(ConfigError):
    """The broker no longer has the start of the interval: restore the day from the archive."""


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    first: int  # the first offset of the interval
    end: int  # the first offset after it
    low: int = 0  # the first offset the partition still holds (the rest: deleted)
    high: int = 0  # the offset after the last one the partition held at the lookup
    late_end: int = 0  # CreateTime: the first offset stamped LATE_WINDOW past the interval's end


@dataclass(frozen=True)
class StreamLanding:
    rows: int
    malformed: int
    ranges: tuple[PartitionRange, ...]
    # per day, the messages among the interval's offsets stamped on an earlier day (CreateTime)
    stamped_earlier: dict[date, int] = field(default_factory=dict)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def interval_ranges(
    consumer, topic: str, interval: Interval, timeout: float = 15, retry_for: float = LOOKUP_SECONDS
) -> list[PartitionRange]:
    """Each partition's offsets of the interval (by broker timestamp).

    Kafka's retriable errors (a partition whose leader is being elected, a broker
    reconnecting) are retried for ``retry_for`` seconds, then :class:`Unavailable`.
    """
    return _retrying(lambda: _interval_ranges(consumer, topic, interval, timeout), retry_for)


def _retrying(lookup: Callable[[], list[PartitionRange]], retry_for: float) -> list[PartitionRange]:
    from confluent_kafka import KafkaError, KafkaException

    transient = {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._TIMED_OUT,
    }
    deadline = time.monotonic() + retry_for
    while True:
        try:
            return lookup()
        except KafkaException as exc:
            error = exc.args[0]
            retriable = isinstance(error, KafkaError) and (error.retriable() or error.code() in transient)
            if not retriable or time.monotonic() > deadline:
                reason = error.str() if isinstance(error, KafkaError) else str(error)
                raise Unavailable(f"Kafka does not answer: {reason}") from None
        time.sleep(0.5)


def _interval_ranges(consumer, topic: str, interval: Interval, timeout: float) -> list[PartitionRange]:
    from confluent_kafka import TopicPartition

    metadata = consumer.list_topics(topic, timeout=timeout)
    found = metadata.topics.get(topic)
    if found is not None and found.error is not None and found.error.retriable():
        from confluent_kafka import KafkaException

        raise KafkaException(found.error)
    if found is None or found.error is not None or not found.partitions:
        raise ConfigError(f"Kafka topic {topic} does not exist (create it: docs/ingestion.md, the stream)")
    ranges = []
    for partition in sorted(found.partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
        # one call per bound: a list naming one partition twice keeps only one of them
        first, end, late_end = (
            _offset_at(consumer, TopicPartition(topic, partition, _ms(moment)), high, timeout)
            for moment in (interval.start, interval.end, interval.end + LATE_WINDOW)
        )
        ranges.append(PartitionRange(partition, first, end, low, high, late_end))
    return ranges


def _offset_at(consumer, at, high: int, timeout: float) -> int:
    """The first offset whose timestamp is at or after ``at.offset`` (ms), else ``high``."""
    from confluent_kafka import KafkaException

    (found,) = consumer.offsets_for_times([at], timeout=timeout)
    if found.error is not None:  # per partition: a leader moving, a partition gone
        raise KafkaException(found.error)
    return high if found.offset < 0 else found.offset


def past_retention(topic: str, partition: int, interval: Interval) -> PastRetention:
    return PastRetention(
        f"{topic} partition {partition} no longer holds all of {interval.day} (past the topic's retention):"
        " nothing was changed; restore the day from the archive (liftoff archive restore, then"
        " liftoff run --skip-ingest; docs/runbook.md, A day past retention)"
    )


def check_retention(
    conn: psycopg.Connection, table: sql.Identifier, topic: str, ranges, interval: Interval
) -> None:
    """Refuse an interval any of whose messages the broker may have deleted.

    A partition whose interval starts at its first retained offset (``low``) may have lost
    the interval's start, or all of it: it is whole only if the landing table holds the
    offset just below ``low`` (or the one below that, a transaction's marker) stamped before
    the interval, i.e. every deleted message was landed by an earlier day (a later day's
    message there means the interval itself was deleted whole).
    """
    for suspect in (r for r in ranges if r.low > 0 and r.first == r.low):
        ids = [f"{topic}:{suspect.partition}:{offset}" for offset in (suspect.low - 1, suspect.low - 2)]
        landed_before = conn.execute(
            sql.SQL(
                "select 1 from {} where _airbyte_raw_id = any(%s) and _kafka_timestamp < %s limit 1"
            ).format(table),
            (ids, interval.start),
        ).fetchone()
        if landed_before is None:
            raise past_retention(topic, suspect.partition, interval)


def read_ranges(
    consumer,
    topic: str,
    ranges: list[PartitionRange],
    interval: Interval,
    stall_seconds: float = STALL_SECONDS,
    stamped_earlier: Counter | None = None,
):
    """The messages of ``ranges`` whose timestamps fall in ``interval``: (partition, offset, ms, value).

    A partition is read until the offset after its range; on a topic whose producers stamp
    the messages (``CreateTime``) further, to the offsets stamped :data:`LATE_WINDOW` after
    the interval, since a message stamped in it may have been appended after later ones. The messages
    among the interval's offsets stamped before it (an earlier day's, appended late) are
    counted by their day in ``stamped_earlier``. An offset that never comes (a transaction's marker, a
    compacted message) ends its partition once the consumer's position passes it.
    """
    from confluent_kafka import TIMESTAMP_CREATE_TIME, KafkaError, TopicPartition

    # a partition with messages at or after the interval's start is read from there: at
    # least one message, whose timestamp type says whether later offsets may still hold it
    due = {r.partition: max(r.end, r.first + 1) for r in ranges if r.first < r.high}
    if not due:
        return
    held = {r.partition: max(r.late_end, r.end) for r in ranges}
    ends = {r.partition: r.end for r in ranges}  # the interval's own offsets end here
    consumer.assign([TopicPartition(topic, r.partition, r.first) for r in ranges if r.partition in due])
    start, end = _ms(interval.start), _ms(interval.end)
    last_progress = time.monotonic()
    while due:
        messages = consumer.consume(num_messages=BATCH, timeout=1.0)
        if not messages:
            _passed(consumer, topic, due)
            if due and time.monotonic() - last_progress > stall_seconds:
                raise Unavailable(
                    f"Kafka stopped answering while {topic} was read ({len(due)} partitions due)"
                )
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                if error.code() == KafkaError._AUTO_OFFSET_RESET:  # deleted since the lookup
                    raise past_retention(topic, message.partition(), interval)
                if error.retriable() or error.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
                    continue  # the client reconnects; the stall deadline bounds the wait
                raise Unavailable(f"Kafka error while {topic} was read: {error.str()}")
            last_progress = time.monotonic()
            partition, offset = message.partition(), message.offset()
            if partition not in due or offset >= due[partition]:
                continue
            kind, stamp = message.timestamp()
            if kind == TIMESTAMP_CREATE_TIME and due[partition] < held[partition]:
                due[partition] = held[partition]  # a late-appended message of the interval may follow
            if start <= stamp < end:
                yield partition, offset, stamp, message.value()
            elif stamp < start and offset < ends[partition] and stamped_earlier is not None:
                stamped_earlier[datetime.fromtimestamp(stamp / 1000, UTC).date()] += 1
            if offset + 1 >= due[partition]:
                del due[partition]


def _passed(consumer, topic: str, due: dict[int, int]) -> None:
    """Drop from ``due`` the partitions whose position is past their end (offsets that are
    never delivered: a transaction's marker, compacted messages)."""
    from confluent_kafka import TopicPartition

    for position in consumer.position([TopicPartition(topic, partition) for partition in due]):
        if position.offset >= 0 and position.offset >= due.get(position.partition, position.offset + 1):
            del due[position.partition]


_DECODE = json.JSONDecoder().decode


def _malformed_meta(problem: str) -> str:
    """A message that is not an event: its whole value (``_value``) landed null."""
    return nulled_meta([nulled("_value", problem, "SOURCE_SERIALIZATION_ERROR")])


def _fields_of(value: bytes | None, fields: list[str]) -> tuple[list[str | None], str | None]:
    """The message's contract fields as text, or all empty and why it is not an event."""
    try:
        event = _DECODE((value or b"").decode("utf-8"))  # str: no encoding sniffing per message
        if not isinstance(event, dict):
            return [None] * len(fields), f"not a JSON object: {type(event).__name__}"
        get = event.get
        values = [None if (found := get(name)) is None else str(found) for name in fields]
    except (ValueError, UnicodeDecodeError) as exc:
        return [None] * len(fields), f"not JSON: {type(exc).__name__}"
    except RecursionError:
        return [None] * len(fields), "not JSON: nested too deeply"
    if b"\\u" in (value or b"") and (problem := _unstorable(values)) is not None:
        return [None] * len(fields), problem  # only an escape can make such a character
    return values, None


def _unstorable(values: list[str | None]) -> str | None:
    """Why PostgreSQL's text cannot store one of ``values`` (a NUL, a lone surrogate), if so."""
    for text in values:
        if text is None:
            continue
        if "\x00" in text:
            return "a value holds a NUL character (\\u0000), which PostgreSQL text cannot store"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "a value holds a lone surrogate (\\ud800-\\udfff), which is not UTF-8"
    return None


def land_interval(
    conn: psycopg.Connection,
    consumer,
    topic: str,
    table: tuple[str, str],
    fields: list[str],
    interval: Interval,
    *,
    stall_seconds: float = STALL_SECONDS,
) -> StreamLanding:
    """Replace ``interval``'s slice of ``table`` with the topic's messages of that interval.

    Every value goes to COPY as text (PostgreSQL parses the times and numbers), the clean
    rows' ``_airbyte_meta`` is one constant: the per-message Python work is the JSON parse.
    """
    wait_for_the_brokers_clock(interval)
    ranges = interval_ranges(consumer, topic, interval)
    target = sql.Identifier(*table)
    extracted_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    data_fields = [name for name in fields if name != CURSOR]
    columns = [
        *data_fields,
        CURSOR,
        *AIRBYTE_COLUMNS,
        *KAFKA_COLUMNS,
    ]
    rows = malformed = 0
    earlier: Counter = Counter()
    with conn.transaction():
        # one landing of a table at a time: today's preview and a day's run never interleave
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (".".join(table),))
        check_retention(conn, target, topic, ranges, interval)  # before anything is deleted
        conn.execute(
            sql.SQL("delete from {} where _kafka_timestamp >= %s and _kafka_timestamp < %s").format(target),
            (interval.start, interval.end),
        )
        copy = sql.SQL("copy {} ({}) from stdin").format(
            target, sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with conn.cursor() as cur, cur.copy(copy) as out:
            write = out.write_row
            for message in read_ranges(consumer, topic, ranges, interval, stall_seconds, earlier):
                row, clean = landing_row(topic, message, data_fields, extracted_at)
                write(row)
                rows, malformed = rows + 1, malformed + (not clean)
    return StreamLanding(rows, malformed, tuple(ranges), dict(earlier))


def wait_for_the_brokers_clock(interval: Interval, now: datetime | None = None, sleep=time.sleep) -> None:
    """A whole day that ended less than :data:`CLOCK_GRACE` ago is read once that grace is
    over (a preview of today so far, ending now, is read at once)."""
    now = now or datetime.now(UTC)
    whole_day = interval.end - interval.start == timedelta(days=1)
    if whole_day and interval.end <= now < interval.end + CLOCK_GRACE:
        sleep((interval.end + CLOCK_GRACE - now).total_seconds())


def landing_row(
    topic: str, message: tuple[int, int, int, bytes | None], data_fields: list[str], extracted_at: str
) -> tuple[list[str | None], bool]:
    """A message's landing row (the columns of :func:`land_interval`'s COPY), and whether it
    is an event: any bytes make a row PostgreSQL stores."""
    partition, offset, stamp, value = message
    values, problem = _fields_of(value, data_fields)
    received = datetime.fromtimestamp(stamp / 1000, UTC).isoformat()  # the cursor
    meta = CLEAN_META if problem is None else _malformed_meta(problem)
    where = f"{topic}:{partition}:{offset}"
    return [
        *values,
        received,
        where,
        extracted_at,
        meta,
        str(partition),
        str(offset),
        received,
    ], problem is None


def landing_consumer(bootstrap_servers: str | None = None, **config):
    """A consumer that reads by assignment and never commits (the interval says what to read).

    ``config``: librdkafka settings (an Airflow connection's extra: ``bootstrap.servers``, ...).
    """
    from confluent_kafka import Consumer

    if bootstrap_servers is not None:
        config["bootstrap.servers"] = bootstrap_servers
    return Consumer(
        client_config(
            {
                "fetch.max.bytes": 52_428_800,
                "queued.max.messages.kbytes": 262_144,
                **config,
                # never the connection's (the watchers'): a group of its own that commits nothing
                "group.id": f"liftoff-landing-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                # an offset deleted between the lookup and the read is an error, never skipped
                "auto.offset.reset": "error",
            }
        )
    )
