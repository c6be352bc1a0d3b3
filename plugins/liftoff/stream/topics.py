"""The point-of-sale topic: its name, partitions and timestamps, and making it.

Production creates ``pos.sales`` with ``LogAppendTime`` (the broker stamps each message as
it arrives, so a day is one contiguous range of offsets per partition). The embedded
default and the tests create it with ``CreateTime`` so that the simulator can replay past
days with the timestamps they would have had (in order along each partition, which keeps
that property).
"""

from __future__ import annotations

TOPIC = "pos.sales"
PARTITIONS = 3


def create_topic(
    bootstrap_servers: str,
    topic: str = TOPIC,
    *,
    timestamp_type: str = "CreateTime",
    retention_ms: int = -1,
    exists_ok: bool = True,
) -> None:
    """The topic with its partitions (nothing if it exists and ``exists_ok``)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
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
