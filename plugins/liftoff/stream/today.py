"""Today so far, within a minute: the stream sources' preview (``gold.gold_sales_today``).

Each stream source's topic is an Airflow asset watched by the Kafka provider's message-queue
trigger (``AssetWatcher``): a message on the topic is an asset event, and the ``pos_today``
DAG, scheduled on those assets, lands what the topic received since today's midnight (UTC)
up to now, replacing that slice of the landing table as a daily run does. The view
``gold_sales_today`` reads it. A preview: the daily run of the day stays the truth, and
replaces the same slice when the day is over.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import Asset, AssetWatcher

from liftoff.batch import Interval
from liftoff.config import SourceConfig

WATCHER_POLL_SECONDS = 1.0  # how long the trigger waits after a message it does not count


def topic_asset(name: str, source: SourceConfig) -> Asset:
    """The source's topic as an asset, watched for new messages."""
    from airflow.providers.apache.kafka.triggers.msg_queue import KafkaMessageQueueTrigger

    trigger = KafkaMessageQueueTrigger(
        topics=[source.kafka.topic],
        kafka_config_id=source.kafka.conn_id,
        apply_function="liftoff.stream.today.message_position",
        poll_timeout=1,
        poll_interval=WATCHER_POLL_SECONDS,
    )
    return Asset(
        uri=f"kafka://{source.kafka.conn_id}/{source.kafka.topic}",
        name=f"{name}.{source.kafka.topic}",
        group="stream",
        watchers=[AssetWatcher(name=f"{name}_messages", trigger=trigger)],
    )


def message_position(message) -> str | None:
    """The trigger's event for a message: where it is (``topic:partition:offset``)."""
    if message.error() is not None:
        return None
    return f"{message.topic()}:{message.partition()}:{message.offset()}"


def today_so_far(now: datetime | None = None) -> Interval:
    """[today's midnight, now) in UTC (a minute past midnight at least: never empty)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = Interval.for_day(now.date()).start
    return Interval(midnight, max(now, midnight.replace(minute=1)))
