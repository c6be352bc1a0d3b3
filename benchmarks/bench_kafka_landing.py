"""Stream landing throughput: 1,000,000 point-of-sale events from Kafka into ``raw_pos.sales``.

Subject: ``liftoff.stream.landing.land_interval`` for the day that holds the events (the
offsets found by time, every message read, parsed and COPY-ed into the landing table in one
transaction), each sample into a fresh ``raw_pos.sales`` (the stream's layout, its key and
index: no sample is a rerun that first deletes the last one's million rows). Baseline in
the same run, the same work done by the fastest parts there are: Kafka's own
``ConsumerPerformance`` tool (the kafka-tools jar of the broker's version) reading the very
same topic from the start (its ``nMsg.sec``: the JVM's start left out), plus a COPY of the
same rows (rendered once, by an untimed landing first) into a fresh table of the same
layout, in one transaction. Goal (#28): ratio <= 3.0x of this floor. Both on a
real broker (KRaft, the pinned jars); three rounds, which goes first alternating.
"""

from __future__ import annotations

import statistics
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


def fresh_table(warehouse, fields: list[str]) -> None:
    """An empty ``raw_pos.sales`` in the stream's layout (untimed), and a checkpoint, so that
    no sample pays for the last one's dirty pages."""
    with warehouse.connect(autocommit=True) as conn:
        conn.execute("create schema if not exists raw_pos")
        conn.execute("drop table if exists raw_pos.sales")
        for statement in streamed_table_ddl("raw_pos", "sales", fields):
            conn.execute(statement)
        conn.execute("checkpoint")


def run(repeat: int = REPEAT) -> Result:
    fields = list(get_contract("sale").model_fields)
    day = Interval.for_day(DAY)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with EmbeddedKafka(root / "kafka", port=free_port(), controller_port=free_port()) as broker:
            create_topic(broker.bootstrap_servers, TOPIC)
            messages = messages_for_day(DAY, per_day=EVENTS)
            started = time.perf_counter()
            publish(broker.bootstrap_servers, messages)
            publish_seconds = time.perf_counter() - started
            del messages
            with pg_server(root) as server, scratch_database(server) as warehouse:
                rows_file = root / "rows.copy"
                landed: list[int] = []

                def land_once() -> float:
                    consumer = landing_consumer(broker.bootstrap_servers)
                    try:
                        with warehouse.connect() as conn:
                            started = time.perf_counter()
                            landing = land_interval(conn, consumer, TOPIC, ("raw_pos", "sales"), fields, day)
                            seconds = time.perf_counter() - started
                        landed.append(landing.rows)
                        if landing.rows != EVENTS:  # as the floor: a figure for the whole day only
                            raise RuntimeError(f"the landing landed {landing.rows} rows, not {EVENTS}")
                        return seconds
                    finally:
                        consumer.close()

                # Untimed: the rows the floor COPYs, as the landing renders them (and the
                # broker's log and PostgreSQL warmed alike for both sides).
                fresh_table(warehouse, fields)
                land_once()
                with (
                    warehouse.connect() as conn,
                    rows_file.open("wb") as out,
                    conn.cursor().copy("copy raw_pos.sales to stdout") as copy,
                ):
                    for block in copy:
                        out.write(block)

                def land() -> float:
                    fresh_table(warehouse, fields)
                    return land_once()

                reads: list[float] = []
                copies: list[float] = []

                def floor() -> float:
                    fresh_table(warehouse, fields)
                    reads.append(consumer_performance(broker.bootstrap_servers))
                    with warehouse.connect() as conn:
                        started = time.perf_counter()
                        with (
                            conn.transaction(),
                            conn.cursor().copy("copy raw_pos.sales from stdin") as copy,
                            rows_file.open("rb") as source,
                        ):
                            while block := source.read(1 << 20):
                                copy.write(block)
                        copies.append(time.perf_counter() - started)
                        copied = conn.execute("select count(*) from raw_pos.sales").fetchone()[0]
                    if copied != EVENTS:
                        raise RuntimeError(f"the floor copied {copied} rows, not {EVENTS}")
                    return reads[-1] + copies[-1]

                def read_only() -> float:  # the split: our consumer loop alone, nothing parsed or written
                    consumer = landing_consumer(broker.bootstrap_servers)
                    try:
                        ranges = interval_ranges(consumer, TOPIC, day)
                        return timed(lambda: sum(1 for _ in read_ranges(consumer, TOPIC, ranges, day)))
                    finally:
                        consumer.close()

                subject, baseline = alternate(land, floor, repeat)
                reading = read_only()
    return Result(
        name="kafka_landing_1m",
        subject="land_interval",
        baseline="ConsumerPerformance+copy",
        subject_seconds=subject,
        baseline_seconds=baseline,
        notes={
            "events": EVENTS,
            "landed": landed[1:],
            "publish_s": round(publish_seconds, 1),
            "consumer_performance_s": round(statistics.median(reads), 2),
            "copy_s": round(statistics.median(copies), 2),
            "copy_s_each": [round(c, 2) for c in copies],
            "read_only_s": round(reading, 2),
        },
    )
