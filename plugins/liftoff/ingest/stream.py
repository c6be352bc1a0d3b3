"""Stream mode: land the run's interval of a source's Kafka topic in ``raw_<source>``.

The consumer comes from the Airflow connection the source names (``kafka`` by default,
the Kafka provider's connection type: its extra is the librdkafka config, at least
``bootstrap.servers``); ``liftoff.stream.landing`` does the reading and the landing.
"""

from __future__ import annotations

import logging

from airflow.providers.apache.kafka.hooks.base import KafkaBaseHook

from liftoff.batch import Interval
from liftoff.config import ConfigError, SourceConfig, landing_schema
from liftoff.stream.landing import land_interval, landing_consumer
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import contract_columns, get_contract

log = logging.getLogger(__name__)


class LandingConsumerHook(KafkaBaseHook):
    """A consumer on a Kafka connection that reads by assignment and never commits."""

    def _get_client(self, config):
        return landing_consumer(**config)


def consumer_of(conn_id: str):
    """The landing consumer of Airflow connection ``conn_id``; a missing one is one line."""
    from airflow.exceptions import AirflowNotFoundException

    try:
        return LandingConsumerHook(kafka_config_id=conn_id).get_conn
    except AirflowNotFoundException:
        raise ConfigError(
            f"the Airflow connection {conn_id} (Kafka) is not defined: set AIRFLOW_CONN_{conn_id.upper()}"
            ' to {"conn_type": "kafka", "extra": {"bootstrap.servers": "host:9092"}}, or skip the source'
            " (LIFTOFF_SKIP_SOURCES)"
        ) from None
    except ValueError as exc:  # the provider's: no bootstrap.servers in the extra
        raise ConfigError(f"the Airflow connection {conn_id} (Kafka): {exc}") from None


def land_stream(name: str, source: SourceConfig, interval: Interval, target: Warehouse) -> dict[str, int]:
    """Land what the source's topic received in ``interval``; rows landed per stream."""
    ((stream, config),) = source.streams.items()
    fields = list(contract_columns(get_contract(config.contract)))
    consumer = consumer_of(source.kafka.conn_id)
    try:
        with target.connect() as conn:
            landed = land_interval(
                conn, consumer, source.kafka.topic, (landing_schema(name), stream), fields, interval
            )
    finally:
        consumer.close()
    offsets = ", ".join(f"p{r.partition} {r.first}..{r.end}" for r in landed.ranges)
    log.info(
        "landed %s messages of %s for %s (%s not events) from offsets %s",
        landed.rows,
        source.kafka.topic,
        interval.day,
        landed.malformed,
        offsets or "none",
    )
    for day, count in sorted(landed.stamped_earlier.items()):
        log.warning(
            "%s messages among the offsets of %s are stamped %s (a producer's clock: the topic's"
            " CreateTime): they land with that day when it runs again: liftoff run --date %s",
            count,
            interval.day,
            day,
            day,
        )
    return {stream: landed.rows}
