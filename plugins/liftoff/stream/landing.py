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
offset. A day whose first messages the broker has deleted (past the topic's retention)
fails in one line that points to the archive.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from liftoff.batch import KAFKA_COLUMNS, Interval
from liftoff.config import ConfigError, Unavailable

CURSOR = "updated_at"
BATCH = 10_000
STALL_SECONDS = 60  # no message for this long while some are still due: the broker is down


class PastRetention(ConfigError):
    """The broker no longer has the start of the interval: restore the day from the archive."""


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    first: int  # the first offset of the interval
    end: int  # the first offset after it


@dataclass(frozen=True)
class StreamLanding:
    rows: int
    malformed: int
    ranges: tuple[PartitionRange, ...]


def landing_table_ddl(schema: str, table: str, fields: list[str]) -> sql.Composed:
    """The landing table of a stream source: the contract's fields as text, Airbyte's
    columns, the message's partition, offset and broker timestamp."""
    columns = [sql.SQL("{} text").format(sql.Identifier(name)) for name in fields]
    columns += [
        sql.SQL("_airbyte_raw_id text primary key"),
        sql.SQL("_airbyte_extracted_at timestamp not null"),
        sql.SQL("_airbyte_meta json not null"),
        sql.SQL("_kafka_partition integer not null"),
        sql.SQL("_kafka_offset bigint not null"),
        sql.SQL("_kafka_timestamp timestamptz not null"),
    ]
    return sql.Composed(
        [
            sql.SQL("create table if not exists {} ({}); ").format(
                sql.Identifier(schema, table), sql.SQL(", ").join(columns)
            ),
            # a run's slice, and the view of today, are ranges of broker time
            sql.SQL("create index if not exists {} on {} (_kafka_timestamp)").format(
                sql.Identifier(f"{table}_kafka_timestamp"), sql.Identifier(schema, table)
            ),
        ]
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def interval_ranges(consumer, topic: str, interval: Interval, timeout: float = 15) -> list[PartitionRange]:
    """Each partition's offsets of the interval (by broker timestamp)."""
    from confluent_kafka import KafkaException, TopicPartition

    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
    except KafkaException as exc:
        raise Unavailable(f"Kafka does not answer: {exc.args[0]}") from exc
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        raise ConfigError(f"Kafka topic {topic} does not exist (create it: docs/ingestion.md, the stream)")
    ranges = []
    try:
        for partition in sorted(found.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
            # one call per bound: a list naming one partition twice keeps only one of them
            first, end = (
                _offset_at(consumer, TopicPartition(topic, partition, _ms(moment)), high, timeout)
                for moment in (interval.start, interval.end)
            )
            if low > 0 and first <= low and end > low:
                raise PastRetention(
                    f"{topic} partition {partition} no longer holds the start of {interval.day} (past the"
                    f" topic's retention): restore the day from the archive (liftoff archive restore, then"
                    " liftoff run --skip-ingest; docs/runbook.md, A day past retention)"
                )
            ranges.append(PartitionRange(partition, first, end))
    except KafkaException as exc:
        raise Unavailable(f"Kafka does not answer: {exc.args[0]}") from exc
    return ranges


def _offset_at(consumer, at, high: int, timeout: float) -> int:
    """The first offset whose timestamp is at or after ``at.offset`` (ms), else ``high``."""
    (found,) = consumer.offsets_for_times([at], timeout=timeout)
    return high if found.offset < 0 else found.offset


def read_ranges(
    consumer,
    topic: str,
    ranges: list[PartitionRange],
    interval: Interval,
    stall_seconds: float = STALL_SECONDS,
):
    """The messages of ``ranges`` whose timestamps fall in ``interval``: (partition, offset, ms, value)."""
    from confluent_kafka import KafkaError, TopicPartition

    due = {r.partition: r.end for r in ranges if r.first < r.end}
    if not due:
        return
    consumer.assign([TopicPartition(topic, r.partition, r.first) for r in ranges if r.first < r.end])
    start, end = _ms(interval.start), _ms(interval.end)
    last_progress = time.monotonic()
    while due:
        messages = consumer.consume(num_messages=BATCH, timeout=1.0)
        if not messages and time.monotonic() - last_progress > stall_seconds:
            raise Unavailable(f"Kafka stopped answering while {topic} was read ({len(due)} partitions due)")
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                if error.retriable() or error.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
                    continue  # the client reconnects; the stall deadline bounds the wait
                raise Unavailable(f"Kafka error while {topic} was read: {error.str()}")
            last_progress = time.monotonic()
            partition, offset = message.partition(), message.offset()
            if partition not in due or offset >= due[partition]:
                continue
            stamp = message.timestamp()[1]
            if start <= stamp < end:
                yield partition, offset, stamp, message.value()
            if offset + 1 >= due[partition]:
                del due[partition]


CLEAN_META = json.dumps({"changes": [], "sync_id": None})
_DECODE = json.JSONDecoder().decode


def _malformed_meta(problem: str) -> str:
    change = {
        "field": "_value",
        "change": "NULLED",
        "reason": "SOURCE_SERIALIZATION_ERROR",
        "detail": problem,
    }
    return json.dumps({"changes": [change], "sync_id": None})


def _fields_of(value: bytes | None, fields: list[str]) -> tuple[list[str | None], str | None]:
    """The message's contract fields as text, or all empty and why it is not an event."""
    try:
        event = _DECODE((value or b"").decode("utf-8"))  # str: no encoding sniffing per message
    except (ValueError, UnicodeDecodeError) as exc:
        return [None] * len(fields), f"not JSON: {type(exc).__name__}"
    if not isinstance(event, dict):
        return [None] * len(fields), f"not a JSON object: {type(event).__name__}"
    get = event.get
    return [None if (found := get(name)) is None else str(found) for name in fields], None


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
    ranges = interval_ranges(consumer, topic, interval)
    extracted_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    data_fields = [name for name in fields if name != CURSOR]
    columns = [
        *data_fields,
        CURSOR,
        "_airbyte_raw_id",
        "_airbyte_extracted_at",
        "_airbyte_meta",
        *KAFKA_COLUMNS,
    ]
    rows = malformed = 0
    target = sql.Identifier(*table)
    with conn.transaction():
        # one landing of a table at a time: today's preview and a day's run never interleave
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (".".join(table),))
        conn.execute(
            sql.SQL("delete from {} where _kafka_timestamp >= %s and _kafka_timestamp < %s").format(target),
            (interval.start, interval.end),
        )
        copy = sql.SQL("copy {} ({}) from stdin").format(
            target, sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with conn.cursor() as cur, cur.copy(copy) as out:
            write = out.write_row
            for partition, offset, stamp, value in read_ranges(
                consumer, topic, ranges, interval, stall_seconds
            ):
                values, problem = _fields_of(value, data_fields)
                received = datetime.fromtimestamp(stamp / 1000, UTC).isoformat()  # the cursor
                if problem is None:
                    meta = CLEAN_META
                else:
                    meta, malformed = _malformed_meta(problem), malformed + 1
                where = f"{topic}:{partition}:{offset}"
                write([*values, received, where, extracted_at, meta, str(partition), str(offset), received])
                rows += 1
    return StreamLanding(rows, malformed, tuple(ranges))


def landing_consumer(bootstrap_servers: str | None = None, **config):
    """A consumer that reads by assignment and never commits (the interval says what to read).

    ``config``: librdkafka settings (an Airflow connection's extra: ``bootstrap.servers``, ...).
    """
    from confluent_kafka import Consumer

    if bootstrap_servers is not None:
        config["bootstrap.servers"] = bootstrap_servers
    return Consumer(
        {
            "fetch.max.bytes": 52_428_800,
            "queued.max.messages.kbytes": 262_144,
            **config,
            # never the connection's (the watchers'): a group of its own that commits nothing
            "group.id": f"liftoff-landing-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            "auto.offset.reset": "earliest",
        }
    )
