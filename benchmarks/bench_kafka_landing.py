"""Stream landing throughput: 1,000,000 point-of-sale events from Kafka into ``raw_pos.sales``.

Subject: ``liftoff.stream.landing.land_interval`` for the day that holds the events (the
offsets found by time, every message read, parsed and COPY-ed into the landing table in one
transaction). Baseline in the same run: Kafka's own ``ConsumerPerformance`` tool (the
kafka-tools jar of the broker's version) reading the very same topic from the start: the
rate at which the broker hands the messages out, with nothing done to them. Goal: at
least half its rate (ratio <= 2.0x). Both on a real broker (KRaft, the pinned jars).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmarks.harness import Result, alternate, pg_server, scratch_database, timed
from liftoff.batch import Interval
from liftoff.ingest.landing_layout import streamed_table_ddl
from liftoff.local.kafka import EmbeddedKafka, kafka_libs
from liftoff.stream.landing import (
    interval_ranges,
    land_interval,
    landing_consumer,
    read_ranges,
)
from liftoff.stream.topics import create_topic
from liftoff_contracts import get_contract
from sales_api.pos import TOPIC, messages_for_day, publish
from sales_api.server import free_port

EVENTS = 1_000_000
DAY = date(2026, 1, 5)
REPEAT = 3


def consumer_performance(servers: str) -> float:
    """Kafka's ConsumerPerformance over the whole topic: the seconds its own rate gives
    (``nMsg.sec``: the JVM's start is left out, in the baseline's favour)."""
    done = subprocess.run(
        [
            "java",
            "-Xmx512m",
            "-cp",
            f"{kafka_libs()}/*",
            "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server",
            servers,
            "--topic",
            TOPIC,
            "--messages",
            str(EVENTS),
            "--timeout",
            "60000",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip() and "WARN" not in line]
    header, values = (line.split(",") for line in lines[-2:])
    stats = {name.strip(): value.strip() for name, value in zip(header, values, strict=False)}
    return EVENTS / float(stats["nMsg.sec"])


def run() -> Result:
    fields = list(get_contract("sale").model_fields)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with EmbeddedKafka(root / "kafka", port=free_port(), controller_port=free_port()) as broker:
            create_topic(broker.bootstrap_servers, TOPIC)
            messages = messages_for_day(DAY, per_day=EVENTS)
            started = time.perf_counter()
            publish(broker.bootstrap_servers, messages)
            publish_seconds = time.perf_counter() - started
            with pg_server(root) as server, scratch_database(server) as warehouse:
                with warehouse.connect() as conn:
                    conn.execute("create schema raw_pos")
                    for statement in streamed_table_ddl("raw_pos", "sales", fields):
                        conn.execute(statement)
                    conn.commit()

                def land() -> float:
                    consumer = landing_consumer(broker.bootstrap_servers)
                    try:
                        with warehouse.connect() as conn:
                            return timed(
                                lambda: land_interval(
                                    conn, consumer, TOPIC, ("raw_pos", "sales"), fields, Interval.for_day(DAY)
                                )
                            )
                    finally:
                        consumer.close()

                def read_only() -> float:  # the split: our consumer loop alone, nothing parsed or written
                    consumer = landing_consumer(broker.bootstrap_servers)
                    try:
                        ranges = interval_ranges(consumer, TOPIC, Interval.for_day(DAY))
                        return timed(
                            lambda: sum(
                                1 for _ in read_ranges(consumer, TOPIC, ranges, Interval.for_day(DAY))
                            )
                        )
                    finally:
                        consumer.close()

                subject, baseline = alternate(
                    land, lambda: consumer_performance(broker.bootstrap_servers), REPEAT
                )
                reading = read_only()
                with warehouse.connect() as conn:
                    landed = conn.execute("select count(*) from raw_pos.sales").fetchone()[0]
    return Result(
        name="kafka_landing_1m",
        subject="land_interval",
        baseline="ConsumerPerformance",
        subject_seconds=subject,
        baseline_seconds=baseline,
        notes={
            "events": EVENTS,
            "landed": landed,
            "publish_s": round(publish_seconds, 1),
            "read_only_s": round(reading, 2),
        },
    )
