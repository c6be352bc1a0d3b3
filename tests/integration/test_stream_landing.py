"""Landing the point-of-sale stream by interval, against a real Kafka broker.

Two days of events from the simulator (duplicates, late events, malformed messages) land
day by day: each day holds exactly the messages the broker received in it, a rerun gives
the same rows, a broker stopped mid-read fails the attempt without a trace and the retry
lands everything once, and a day the broker no longer holds fails in one line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from liftoff.batch import Interval
from liftoff.config import Unavailable
from liftoff.ingest.landing_layout import streamed_table_ddl
from liftoff.local.kafka import EmbeddedKafka
from liftoff.stream.landing import (
    PastRetention,
    interval_ranges,
    land_interval,
    landing_consumer,
)
from liftoff.stream.topics import create_topic
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import get_contract
from sales_api.pos import TOPIC, PosFaults, messages_for_day, publish
from sales_api.server import free_port

DAYS = [date(2026, 11, 20), date(2026, 11, 21)]
FAULTS = PosFaults(duplicates=0.15, late=0.1, malformed=4)
FIELDS = list(get_contract("sale").model_fields)
TABLE = ("raw_pos", "sales")
# small fetches: the read is still going when the broker stops
SMALL_FETCHES = {"max.partition.fetch.bytes": 16384, "queued.max.messages.kbytes": 64}


def published() -> list:
    return [message for day in DAYS for message in messages_for_day(day, faults=FAULTS)]


def received_in(day: date) -> list:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [m for m in published() if start <= m.arrival < start + timedelta(days=1)]


@pytest.fixture
def landing(warehouse: Warehouse):
    with warehouse.connect() as conn:
        conn.execute("create schema raw_pos")
        for statement in streamed_table_ddl(*TABLE, FIELDS):
            conn.execute(statement)
        conn.commit()
    return warehouse


def land(warehouse: Warehouse, servers: str, day: date, topic: str = "pos.sales", **kwargs):
    consumer = landing_consumer(servers)
    try:
        with warehouse.connect() as conn:
            return land_interval(conn, consumer, topic, TABLE, FIELDS, Interval.for_day(day), **kwargs)
    finally:
        consumer.close()


def landed(warehouse: Warehouse, day: date) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select _airbyte_raw_id, sale_id, amount, updated_at, _airbyte_meta::text, _kafka_timestamp"
            " from raw_pos.sales where _kafka_timestamp >= %s and _kafka_timestamp < %s order by 1",
            (day, day + timedelta(days=1)),
        ).fetchall()


@pytest.fixture(scope="module")
def topic(kafka_broker: EmbeddedKafka) -> str:
    """A topic of this module's own on the session's broker (pos.sales is the DAG's tests')."""
    name = "pos.sales.landing"
    create_topic(kafka_broker.bootstrap_servers, name)
    assert publish(kafka_broker.bootstrap_servers, published(), topic=name) == len(published())
    return name


def test_each_day_lands_what_the_broker_received_in_it_and_reruns_identically(
    kafka_broker: EmbeddedKafka, topic: str, landing: Warehouse
) -> None:
    servers = kafka_broker.bootstrap_servers
    for day in DAYS:
        result = land(landing, servers, day, topic=topic)
        expected = received_in(day)
        assert result.rows == len(expected) and result.malformed == sum(m.event is None for m in expected)
        rows = landed(landing, day)
        assert sorted(r[1] for r in rows if r[1]) == sorted(m.event["sale_id"] for m in expected if m.event)
        assert len({r[0] for r in rows}) == len(rows), "one row per message: topic, partition, offset"
    late = [
        m.event["sale_id"]
        for m in received_in(DAYS[1])
        if m.event and m.event["sale_id"].startswith("pos-20261120")
    ]
    assert late, "late events of the 20th land with the 21st (the lookback window takes them)"
    duplicates = [r[1] for r in landed(landing, DAYS[0]) if r[1]]
    assert len(duplicates) > len(set(duplicates)), "a retried event lands twice; silver keeps one"
    malformed = [r for r in landed(landing, DAYS[0]) if r[1] is None]
    assert len(malformed) == FAULTS.malformed and all("SOURCE_SERIALIZATION_ERROR" in r[4] for r in malformed)
    assert all(r[3] == r[5].isoformat() for r in landed(landing, DAYS[0])), "the cursor is the broker's time"

    first = landed(landing, DAYS[0])
    for _ in range(3):
        land(landing, servers, DAYS[0], topic=topic)
        assert landed(landing, DAYS[0]) == first
    assert landed(landing, DAYS[1]), "a rerun of one day leaves the other alone"


class StopsTheBrokerMidRead:
    """A consumer that stops the real broker once it has handed out its first messages: the
    rest of the day is not fetched yet (small fetches), so the read cannot finish."""

    def __init__(self, consumer, broker: EmbeddedKafka) -> None:
        self.consumer, self.broker, self.stopped = consumer, broker, False

    def __getattr__(self, name):
        return getattr(self.consumer, name)

    def consume(self, *args, **kwargs):
        messages = self.consumer.consume(*args, **kwargs)
        if messages and not self.stopped:
            self.stopped = True
            self.broker.stop()  # before the landing sees its first batch: no race with the read
        return messages


def test_a_broker_stopped_mid_read_fails_the_attempt_and_the_retry_lands_it_once(
    landing: Warehouse, tmp_path: Path
) -> None:
    broker = EmbeddedKafka(tmp_path / "kafka", port=free_port(), controller_port=free_port()).start()
    try:
        day = DAYS[0]
        create_topic(broker.bootstrap_servers, TOPIC)
        messages = messages_for_day(day, per_day=20_000, faults=FAULTS)
        publish(broker.bootstrap_servers, messages)
        consumer = StopsTheBrokerMidRead(landing_consumer(broker.bootstrap_servers, **SMALL_FETCHES), broker)
        with pytest.raises(Unavailable, match="Kafka"), landing.connect() as conn:
            land_interval(conn, consumer, "pos.sales", TABLE, FIELDS, Interval.for_day(day), stall_seconds=5)
        assert consumer.stopped and landed(landing, day) == [], "the failed attempt left nothing"
        consumer.close()

        broker.start()  # the same log folder: the broker comes back with every message
        result = land(landing, broker.bootstrap_servers, day)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        of_the_day = [m for m in messages if m.arrival < start + timedelta(days=1)]  # not the late ones
        assert result.rows == len(of_the_day) == len(landed(landing, day))
    finally:
        broker.stop()


def test_a_day_past_retention_fails_in_one_line(kafka_broker: EmbeddedKafka, landing: Warehouse) -> None:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    servers, topic = kafka_broker.bootstrap_servers, "pos.sales.retention"
    create_topic(servers, topic)
    publish(servers, published(), topic=topic)
    consumer = landing_consumer(servers)
    cut = []
    for partition in range(3):  # what retention does: the oldest messages are deleted
        first_of_21st = consumer.offsets_for_times(
            [TopicPartition(topic, partition, int(datetime(2026, 11, 21, tzinfo=UTC).timestamp() * 1000))],
            timeout=10,
        )[0]
        cut.append(TopicPartition(topic, partition, max(first_of_21st.offset - 3, 1)))
    consumer.close()
    admin = AdminClient({"bootstrap.servers": servers})  # kept: its futures need it alive
    for future in admin.delete_records(cut).values():
        future.result(30)

    with pytest.raises(PastRetention) as refused:
        land(landing, servers, DAYS[0], topic=topic)
    message = str(refused.value)
    assert (
        "\n" not in message
        and "past the topic's retention" in message
        and "liftoff archive restore" in message
    )


def test_an_older_day_replayed_after_newer_ones_lands_all_of_them(kafka_broker: EmbeddedKafka) -> None:
    """The demo's replay keeps each partition in time order: a day older than the topic's
    newest is published by rebuilding the topic, days in order; nothing is sent twice."""
    from sales_api.pos import DEMO_FAULTS, publish_days

    servers, topic = kafka_broker.bootstrap_servers, "pos.sales.replay"
    create_topic(servers, topic)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    older, newer = date(2026, 11, 20), date(2026, 11, 23)
    assert set(publish_days(servers, [newer], now=now, topic=topic)) == {newer}
    assert set(publish_days(servers, [older, newer], now=now, topic=topic)) == {older, newer}, "rebuilt"
    assert publish_days(servers, [older, newer], now=now, topic=topic) == {}, "nothing twice"
    consumer = landing_consumer(servers)
    try:
        for day in (older, newer):
            ranges = interval_ranges(consumer, topic, Interval.for_day(day))
            arrived = [m for m in messages_for_day(day, faults=DEMO_FAULTS) if m.arrival.date() == day]
            assert sum(r.end - r.first for r in ranges) == len(arrived), day
    finally:
        consumer.close()


def test_a_broker_whose_port_is_taken_says_which_and_why(tmp_path: Path, monkeypatch) -> None:
    """Caught before Java starts; and if another process takes it after the check, the broker's
    own reason (its log's last error) is in the message."""
    import socket

    from liftoff.config import ConfigError
    from liftoff.local import kafka as broker_module

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        broker = EmbeddedKafka(tmp_path / "kafka", port=free_port(), controller_port=taken)
        with pytest.raises(ConfigError, match=f"port {taken} \\(its controller's listener\\) is taken"):
            broker.start()

        monkeypatch.setattr(broker_module, "port_is_free", lambda port: True)  # taken after the check
        reason = f"did not start: .*failed to bind to 127.0.0.1:{taken}: Address already in use"
        with pytest.raises(ConfigError, match=reason):
            broker.start(timeout=60)
        assert broker.process.poll() is not None, "the broker that failed is not left running"


def test_cluster_ids_never_look_like_an_option() -> None:
    """CI once failed to format a broker's folder: an id starting with `-` (1 in 64)."""
    from liftoff.local.kafka import cluster_uuid

    ids = [cluster_uuid() for _ in range(2000)]
    assert all(len(text) == 22 and not text.startswith("-") for text in ids) and len(set(ids)) == 2000
