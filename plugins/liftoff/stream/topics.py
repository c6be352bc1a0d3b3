"""The stream sources' topics: their names (each source's ``kafka.topic`` in sources.yaml),
partitions and timestamps, and making them.

Production creates each with ``LogAppendTime`` (the broker stamps each message as
it arrives, so a day is one contiguous range of offsets per partition). The embedded
default and the tests create it with ``CreateTime`` so that the simulator can replay past
days with the timestamps they would have had (in order along each partition, which keeps
that property).

Every Kafka client of ours logs through Python's logging (``liftoff.kafka``), never
librdkafka's own lines on the console: :func:`client_config`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

PARTITIONS = 3
LEADERS_TIMEOUT = 60  # a new topic's partitions get their leaders within seconds

KAFKA_LOG = logging.getLogger("liftoff.kafka")


def client_config(config: dict) -> dict:
    """``config`` with librdkafka's log lines sent to the ``liftoff.kafka`` logger: a task's
    log has them, a terminal does not (they are not ours to show)."""
    return {**config, "logger": KAFKA_LOG}


def source_topics(sources: Mapping[str, Any]) -> list[str]:
    """The topics of ``sources`` (``liftoff.config.SourceConfig`` by name) that stream."""
    return sorted({source.kafka.topic for source in sources.values() if source.kafka is not None})


def create_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    timestamp_type: str = "CreateTime",
    retention_ms: int = -1,
    exists_ok: bool = True,
) -> None:
    """The topic with its partitions (nothing if it exists and ``exists_ok``), returned once
    every partition has a leader: a read of a partition without one fails (NOT_LEADER)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_config({"bootstrap.servers": bootstrap_servers}))
    config = {"message.timestamp.type": timestamp_type, "retention.ms": str(retention_ms)}
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1, config=config)]
    )
    for future in futures.values():
        try:
            future.result(30)
        except Exception as exc:  # already there: fine
            if not exists_ok or "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    wait_for_leaders(admin, topic)


def wait_for_leaders(admin, topic: str, timeout: float = LEADERS_TIMEOUT) -> None:
    """Until every partition of ``topic`` has a leader; a topic still without one after
    ``timeout`` seconds raises :class:`~liftoff.config.Unavailable`."""
    from confluent_kafka import KafkaException

    from liftoff.config import Unavailable

    deadline = time.monotonic() + timeout
    while True:
        try:
            found = admin.list_topics(topic, timeout=10).topics.get(topic)
        except KafkaException:
            found = None
        partitions = found.partitions.values() if found is not None and found.error is None else ()
        if partitions and all(p.leader >= 0 and p.error is None for p in partitions):
            return
        if time.monotonic() > deadline:
            raise Unavailable(f"Kafka topic {topic}: its partitions have no leader after {timeout:.0f} s")
        time.sleep(0.2)
