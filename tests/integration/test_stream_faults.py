"""Faults of the point-of-sale stream: a day is never blocked, emptied or silently shortened.

Against a real Kafka broker and PostgreSQL: a new topic read at once, librdkafka kept off
the console, poison messages quarantined (a property test feeds arbitrary bytes to the very
row the landing COPYs), and days the broker deleted refused before anything is replaced.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liftoff.batch import Interval
from liftoff.config import Unavailable
from liftoff.ingest.landing_layout import streamed_table_ddl
from liftoff.local.kafka import EmbeddedKafka
from liftoff.stream.landing import (
    CURSOR,
    PastRetention,
    interval_ranges,
    landing_consumer,
    landing_row,
    read_ranges,
)
from liftoff.stream.topics import PARTITIONS, client_config, create_topic
from liftoff.warehouse.location import Warehouse
from sales_api.pos import PosFaults, messages_for_day, publish
from sales_api.server import free_port
from tests.integration.test_stream_landing import DAYS, FIELDS, TABLE, land

DATA_FIELDS = [name for name in FIELDS if name != CURSOR]


@pytest.fixture
def landing(warehouse: Warehouse) -> Warehouse:
    with warehouse.connect() as conn:
        conn.execute("create schema raw_pos")
        for statement in streamed_table_ddl(*TABLE, FIELDS):
            conn.execute(statement)
        conn.commit()
    return warehouse


def rows_of(warehouse: Warehouse, day: date) -> list[tuple]:
    interval = Interval.for_day(day)
    with warehouse.connect() as conn:
        return conn.execute(
            "select _airbyte_raw_id, sale_id, _airbyte_meta::text from raw_pos.sales"
            " where _kafka_timestamp >= %s and _kafka_timestamp < %s order by 1",
            (interval.start, interval.end),
        ).fetchall()


def first_offsets_of(servers: str, topic: str, day: date) -> list[int]:
    """Per partition, the first offset stamped at or after ``day``'s start."""
    consumer = landing_consumer(servers)
    try:
        return [r.first for r in interval_ranges(consumer, topic, Interval.for_day(day))]
    finally:
        consumer.close()


def delete_below(servers: str, topic: str, offsets: list[int]) -> None:
    """What retention does: every message below ``offsets`` (per partition) is deleted."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": servers})  # kept: its futures need it alive
    cut = [TopicPartition(topic, partition, offset) for partition, offset in enumerate(offsets)]
    for future in admin.delete_records(cut).values():
        future.result(30)


@pytest.fixture
def two_days(kafka_broker: EmbeddedKafka, request) -> str:
    """A topic of this test's own holding two days of events."""
    name = f"pos.sales.faults.{request.node.name[:40]}"
    create_topic(kafka_broker.bootstrap_servers, name)
    messages = [m for day in DAYS for m in messages_for_day(day, faults=PosFaults(malformed=1))]
    publish(kafka_broker.bootstrap_servers, messages, topic=name)
    return name


def test_a_new_topic_is_made_with_a_leader_for_every_partition_and_read_at_once(tmp_path) -> None:
    """A fresh home's first run made the topic and at once failed (NOT_LEADER_FOR_PARTITION)."""
    from confluent_kafka.admin import AdminClient

    broker = EmbeddedKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port()).start()
    try:
        create_topic(broker.bootstrap_servers, "pos.sales")
        topic = AdminClient({"bootstrap.servers": broker.bootstrap_servers}).list_topics("pos.sales").topics
        partitions = topic["pos.sales"].partitions.values()
        assert len(partitions) == PARTITIONS and all(p.leader >= 0 for p in partitions)
        consumer = landing_consumer(broker.bootstrap_servers)
        try:
            ranges = interval_ranges(consumer, "pos.sales", Interval.for_day(DAYS[0]))
        finally:
            consumer.close()
        assert [(r.first, r.end) for r in ranges] == [(0, 0)] * PARTITIONS
    finally:
        broker.stop()


def test_kafkas_retriable_errors_are_retried_within_the_lookup() -> None:
    from confluent_kafka import KafkaError, KafkaException

    from liftoff.stream.landing import PartitionRange, _retrying

    answers = [
        KafkaException(KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION)),
        KafkaException(KafkaError(KafkaError.LEADER_NOT_AVAILABLE)),
        [PartitionRange(0, 1, 2)],
    ]

    def lookup():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _retrying(lookup, retry_for=10) == [PartitionRange(0, 1, 2)] and not answers

    def refused():
        raise KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))

    with pytest.raises(Unavailable, match="Kafka does not answer"):
        _retrying(refused, retry_for=10)


def test_librdkafkas_own_lines_never_reach_the_console() -> None:
    """A client that cannot connect: librdkafka would print `%3|…|FAIL|…` to stderr."""
    script = (
        "from liftoff.batch import Interval\n"
        "from liftoff.stream.landing import interval_ranges, landing_consumer\n"
        "from datetime import date\n"
        f"consumer = landing_consumer('127.0.0.1:{free_port()}')\n"
        "try:\n"
        "    day = Interval.for_day(date(2026, 11, 20))\n"
        "    interval_ranges(consumer, 'pos.sales', day, timeout=2, retry_for=3)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
        "consumer.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "Unavailable", done.stderr[-2000:]
    assert "%3|" not in done.stderr and "%4|" not in done.stderr and "%6|" not in done.stderr, done.stderr[
        -2000:
    ]


def test_poison_messages_are_quarantined_and_the_rest_of_the_day_lands(
    kafka_broker: EmbeddedKafka, landing: Warehouse
) -> None:
    from sales_api.pos import Message

    servers, topic = kafka_broker.bootstrap_servers, "pos.sales.poison"
    create_topic(servers, topic)
    good = [m for m in messages_for_day(DAYS[0]) if m.event][:20]
    arrival = good[-1].arrival
    poison = {
        b"[" * 100_000: "nested too deeply",
        b'{"sale_id": "S\\u0000", "amount": 1}': "NUL",
        b'{"sale_id": "S\\ud800", "amount": 1}': "lone surrogate",
        b"\xff\xfe not utf-8": "not JSON",
    }
    publish(servers, good + [Message(None, value, arrival, None) for value in poison], topic=topic)

    result = land(landing, servers, DAYS[0], topic)
    assert result.rows == len(good) + len(poison) and result.malformed == len(poison)
    rows = rows_of(landing, DAYS[0])
    assert sorted(r[1] for r in rows if r[1]) == sorted(m.event["sale_id"] for m in good)
    bad = [r for r in rows if r[1] is None]
    for reason in poison.values():
        assert any(reason in r[2] for r in bad), (reason, bad)
    assert all(r[0].startswith(f"{topic}:") for r in bad), "each under its topic:partition:offset"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.binary(max_size=400),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda v: __import__("json").dumps(v).encode()),
        st.dictionaries(st.sampled_from(DATA_FIELDS), st.text(), max_size=6).map(
            lambda v: __import__("json").dumps(v).encode()
        ),
    )
)
def test_any_bytes_make_a_row_postgresql_stores(landing: Warehouse, value: bytes) -> None:
    """The property: whatever a message holds, its row goes through the landing's COPY."""
    from psycopg import sql

    row, clean = landing_row("t", (0, 1, 1763596800000, value), DATA_FIELDS, "2026-11-20 00:00:00")
    columns = [*DATA_FIELDS, CURSOR, "_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"]
    columns += ["_kafka_partition", "_kafka_offset", "_kafka_timestamp"]
    with landing.connect() as conn, conn.transaction(force_rollback=True), conn.cursor() as cur:
        copy = sql.SQL("copy raw_pos.sales ({}) from stdin").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with cur.copy(copy) as out:
            out.write_row(row)
        (count,) = cur.execute("select count(*) from raw_pos.sales").fetchone()
    assert count == 1
    assert clean or all(v is None for v in row[: len(DATA_FIELDS)]), (
        "a bad message lands empty, with its reason"
    )


def test_a_rerun_of_a_day_the_broker_has_deleted_fails_and_keeps_its_rows(
    kafka_broker: EmbeddedKafka, landing: Warehouse, two_days: str
) -> None:
    servers = kafka_broker.bootstrap_servers
    land(landing, servers, DAYS[0], two_days)
    before = rows_of(landing, DAYS[0])
    assert before
    delete_below(servers, two_days, [o + 2 for o in first_offsets_of(servers, two_days, DAYS[1])])
    with pytest.raises(PastRetention, match=r"no longer holds all of 2026-11-20.*nothing was changed"):
        land(landing, servers, DAYS[0], two_days)
    assert rows_of(landing, DAYS[0]) == before, "nothing deleted"


def test_a_day_deleted_whole_after_the_next_day_landed_fails_and_keeps_its_rows(
    kafka_broker: EmbeddedKafka, landing: Warehouse, two_days: str
) -> None:
    """The offset below the first retained one is the next day's (landed): not an earlier
    day's, so the day itself may be gone."""
    servers = kafka_broker.bootstrap_servers
    for day in DAYS:
        land(landing, servers, day, two_days)
    before = rows_of(landing, DAYS[0])
    delete_below(servers, two_days, [o + 2 for o in first_offsets_of(servers, two_days, DAYS[1])])
    with pytest.raises(PastRetention):
        land(landing, servers, DAYS[0], two_days)
    assert rows_of(landing, DAYS[0]) == before, "nothing deleted"


def test_a_first_landing_of_a_deleted_day_fails_but_a_day_whose_eve_was_landed_goes_on(
    kafka_broker: EmbeddedKafka, landing: Warehouse, two_days: str
) -> None:
    servers = kafka_broker.bootstrap_servers
    land(landing, servers, DAYS[0], two_days)  # the 20th, landed whole
    delete_below(servers, two_days, first_offsets_of(servers, two_days, DAYS[1]))  # all of the 20th
    assert land(landing, servers, DAYS[1], two_days).rows > 0, "every deleted message was landed before"
    with landing.connect() as conn:  # a new landing table: the 20th was never landed here
        conn.execute("truncate raw_pos.sales")
        conn.commit()
    with pytest.raises(PastRetention):
        land(landing, servers, DAYS[1], two_days)


def test_an_offset_deleted_between_the_lookup_and_the_read_fails_the_read(
    kafka_broker: EmbeddedKafka, two_days: str
) -> None:
    """The consumer resets to no other offset (auto.offset.reset=error): nothing is skipped."""
    servers = kafka_broker.bootstrap_servers
    consumer = landing_consumer(servers)
    try:
        interval = Interval.for_day(DAYS[0])
        ranges = interval_ranges(consumer, two_days, interval)
        delete_below(servers, two_days, [r.first + 3 for r in ranges])
        with pytest.raises(PastRetention):
            list(read_ranges(consumer, two_days, ranges, interval, stall_seconds=20))
    finally:
        consumer.close()


def test_a_transactions_marker_at_the_end_of_a_day_ends_the_read(kafka_broker: EmbeddedKafka) -> None:
    """The offset before the next day's first message is a commit marker, never delivered:
    the read ends once the consumer's position passes it, not by stalling."""
    from datetime import UTC, datetime, timedelta

    from confluent_kafka import Producer

    servers, topic = kafka_broker.bootstrap_servers, "pos.sales.transactions"
    create_topic(servers, topic, timestamp_type="LogAppendTime")  # production's topic
    events = [m for m in messages_for_day(DAYS[0]) if m.event][:5]
    producer = Producer(client_config({"bootstrap.servers": servers, "transactional.id": "pos-terminal-1"}))
    producer.init_transactions(60)
    producer.begin_transaction()
    for message in events:
        producer.produce(topic, value=message.value, key=message.key, partition=0)
    producer.commit_transaction(60)
    time.sleep(0.1)
    midnight = datetime.now(UTC)  # the day ends after the commit, before the next message
    time.sleep(0.1)
    publish(servers, events[:1], topic=topic, stamp=False)
    interval = Interval(midnight - timedelta(hours=1), midnight)
    consumer = landing_consumer(servers)
    try:
        ranges = interval_ranges(consumer, topic, interval)
        assert ranges[0].end == len(events) + 1, "the marker takes the day's last offset"
        read = list(read_ranges(consumer, topic, ranges, interval, stall_seconds=10))
    finally:
        consumer.close()
    assert [offset for _, offset, _, _ in read] == list(range(len(events)))


def test_a_message_stamped_in_a_day_appended_after_later_days_lands_with_its_day(
    kafka_broker: EmbeddedKafka, landing: Warehouse
) -> None:
    """A topic whose producers stamp messages (CreateTime): a day's message may come after
    the next day's; the day's landing still finds it, and the next day's counts it."""
    from datetime import timedelta

    servers, topic = kafka_broker.bootstrap_servers, "pos.sales.late-appended"
    create_topic(servers, topic)
    later = [m for m in messages_for_day(DAYS[1]) if m.event][:6]
    straggler = next(m for m in messages_for_day(DAYS[0]) if m.event)
    publish(servers, later, topic=topic)
    publish(servers, [straggler], topic=topic)  # appended last, stamped the 20th
    assert straggler.arrival < later[0].arrival - timedelta(hours=1)

    first_day = land(landing, servers, DAYS[0], topic)
    assert first_day.rows == 1 and [r[1] for r in rows_of(landing, DAYS[0])] == [straggler.event["sale_id"]]
    second_day = land(landing, servers, DAYS[1], topic)
    assert second_day.rows == len(later)
    assert second_day.stamped_earlier == {DAYS[0]: 1}, "the next day's landing says which day to rerun"


def test_a_day_just_ended_is_read_after_the_brokers_clock_grace() -> None:
    from datetime import timedelta

    from liftoff.stream.landing import CLOCK_GRACE, wait_for_the_brokers_clock
    from liftoff.stream.today import today_so_far

    day = Interval.for_day(DAYS[0])
    waits: list[float] = []
    wait_for_the_brokers_clock(day, now=day.end + timedelta(seconds=30), sleep=waits.append)
    assert waits == [(CLOCK_GRACE - timedelta(seconds=30)).total_seconds()]
    wait_for_the_brokers_clock(day, now=day.end + CLOCK_GRACE, sleep=waits.append)  # a backfill
    preview = today_so_far(day.end + timedelta(hours=3))
    wait_for_the_brokers_clock(preview, now=preview.end, sleep=waits.append)  # today so far
    assert len(waits) == 1


def test_an_event_the_broker_refuses_fails_the_publish_naming_how_many(kafka_broker: EmbeddedKafka) -> None:
    """A terminal's event the broker will not take (here: larger than the topic allows) is an
    error, not a count: the simulator and the demo say so instead of losing it unsaid."""
    from confluent_kafka.admin import AdminClient, NewTopic

    from sales_api.pos import Message

    servers, topic = kafka_broker.bootstrap_servers, "pos.sales.small"
    admin = AdminClient(client_config({"bootstrap.servers": servers}))
    config = {"max.message.bytes": "2000"}
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1, config=config)]).values():
        future.result(30)
    good = [m for m in messages_for_day(DAYS[0]) if m.event][:3]
    big = Message(None, b'{"sale_id": "' + b"x" * 5000 + b'"}', good[-1].arrival, None)
    assert publish(servers, good, topic=topic) == 3
    refused = r"Kafka refused 1 of 4 point-of-sale events for pos\.sales\.small: "
    with pytest.raises(RuntimeError, match=refused):
        publish(servers, [*good, big], topic=topic)
