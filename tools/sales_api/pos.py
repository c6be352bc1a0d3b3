"""A deterministic point-of-sale simulator: the shops' terminals publishing each sale to Kafka.

Each sale of a day is one JSON event on topic ``pos.sales`` (key: the sale id): the ``Sale``
contract's fields plus ``event_id`` and ``event_time`` (when the terminal sent it). The same
day and seed always give the same events, and faults can be injected, as real terminals
make them: ``duplicates`` (an event sent twice, as a retrying producer does), ``late`` (a
sale of the day that arrives after it: a terminal offline until the next morning) and
``malformed`` (bytes that are not an event). ``arrival`` is when the broker gets the event:
the simulator stamps it on the message (``CreateTime``) so that past days can be replayed
with the timestamps they would have had, in order per partition; live, the broker's own
clock stamps them (``LogAppendTime``, the production topic's setting).

``python -m sales_api.pos --days 2026-11-20 2026-11-21 --bootstrap-servers 127.0.0.1:59092``

With a login (the team deployment's broker: SASL SCRAM-SHA-512), ``--sasl-username USER`` and
the password in the environment variable ``LIFTOFF_POS_KAFKA_PASSWORD`` (never on the command
line, where ``ps`` shows it).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import time as clock
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from liftoff.config import load_sources
from liftoff.stream.topics import PARTITIONS, client_config, create_topic
from sales_api.data import PRODUCTS, SELLERS, TIMESTAMP_FORMAT


@functools.cache
def pos_topic() -> str:
    """The pos source's topic, as sources.yaml names it (read on first use: a module imports
    without the project's files beside it)."""
    return load_sources()["pos"].kafka.topic


def __getattr__(name: str) -> str:
    if name == "TOPIC":  # `from sales_api.pos import TOPIC`: the same, when it is imported
        return pos_topic()
    raise AttributeError(name)


PASSWORD_VARIABLE = "LIFTOFF_POS_KAFKA_PASSWORD"  # --sasl-username's password, never argv
EVENT_NAMESPACE = uuid.UUID("7d1c4a52-3c1e-4f0e-9d55-0f1b2f6b9a11")
# The shops open at 08:00 UTC: a day's own events arrive from then on; the late ones of the
# day before arrive earlier that morning (07:00 to 08:00).
OPENING = time(8)


@dataclass(frozen=True)
class PosFaults:
    """Shares of a day's sales that arrive twice, or late; malformed messages per day."""

    duplicates: float = 0.0
    late: float = 0.0
    malformed: int = 0


@dataclass(frozen=True)
class Message:
    """One message as the simulator publishes it."""

    key: bytes | None
    value: bytes
    arrival: datetime  # the broker timestamp it gets
    event: dict | None  # None for a malformed message


def sales_of_day(day: date, *, seed: int = 42, per_day: int | None = None) -> list[dict]:
    """The day's point-of-sale sales (the events' payloads), in time order."""
    rng = random.Random(f"pos:{seed}:{day}")
    count = per_day if per_day is not None else rng.randint(30, 50)
    start = datetime.combine(day, OPENING, tzinfo=UTC)
    sales = []
    for index in range(count):
        offset = int(index * 12 * 3600 / max(count, 1))
        sales.append(
            _sale(
                rng,
                f"pos-{day:%Y%m%d}-{index:05d}",
                lambda rng, offset=offset: start + timedelta(seconds=offset + rng.randint(0, 59)),
            )
        )
    return sales


def _sale(rng: random.Random, sale_id: str, sold_at: Callable[[random.Random], datetime]) -> dict:
    """One sale at a terminal: a product, a quantity, a seller (``sold_at(rng)``: when)."""
    product = rng.choice(PRODUCTS)
    quantity = rng.randint(1, 4)
    when = sold_at(rng)
    return {
        "sale_id": sale_id,
        "seller_email": rng.choice(SELLERS)["email"],
        "sold_at": when.strftime(TIMESTAMP_FORMAT),
        "amount": str(Decimal(product["unit_price"]) * quantity),
        "quantity": quantity,
        "product": product["name"],
    }


def messages_for_day(
    day: date, *, seed: int = 42, per_day: int | None = None, faults: PosFaults = PosFaults()
) -> list[Message]:
    """What the terminals publish for ``day``: every sale, plus the faults, by arrival time."""
    rng = random.Random(f"pos-faults:{seed}:{day}")
    messages = []
    for sale in sales_of_day(day, seed=seed, per_day=per_day):
        sold_at = datetime.strptime(sale["sold_at"], TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        arrival = sold_at + timedelta(seconds=rng.randint(1, 30))
        if rng.random() < faults.late:  # offline until the next morning
            arrival = datetime.combine(day + timedelta(days=1), time(7), tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 3600)
            )
        event = {
            **sale,
            "event_id": str(uuid.uuid5(EVENT_NAMESPACE, sale["sale_id"])),
            "event_time": arrival.strftime(TIMESTAMP_FORMAT),
        }
        body = json.dumps(event).encode()
        messages.append(Message(sale["sale_id"].encode(), body, arrival, event))
        if rng.random() < faults.duplicates:  # the producer retried: the same event again
            messages.append(Message(sale["sale_id"].encode(), body, arrival + timedelta(seconds=2), event))
    for index in range(faults.malformed):
        arrival = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=37 * index)
        garbage = [b"{not json", b'"just a string"', b"\xff\xfe\x00", b'{"sale_id": '][index % 4]
        messages.append(Message(None, garbage, arrival, None))
    return sorted(messages, key=lambda m: m.arrival)


def partition_of(message: Message, index: int) -> int:
    """A sale's events always go to one partition (by key); a keyless message round-robins."""
    if message.key is None:
        return index % PARTITIONS
    return int.from_bytes(uuid.uuid5(EVENT_NAMESPACE, message.key.decode()).bytes[:4], "big") % PARTITIONS


def sasl_config(username: str | None, password: str | None) -> dict[str, str]:
    """librdkafka's settings of a SASL SCRAM-SHA-512 login (the team deployment's listeners);
    none without a user name."""
    if not username:
        return {}
    if not password:
        raise ValueError(f"--sasl-username {username}: its password is not set ({PASSWORD_VARIABLE})")
    return {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": username,
        "sasl.password": password,
    }


def publish(
    bootstrap_servers: str,
    messages: Iterable[Message],
    *,
    topic: str | None = None,
    stamp: bool = True,
    sasl: dict[str, str] | None = None,
) -> int:
    """Publish ``messages`` to ``topic`` (idempotent producer, all acks); how many. An event the
    broker refuses fails the call, naming how many and the first reason: none is lost unsaid.

    ``stamp``: give each message its simulated arrival as its timestamp (a replayed past day
    on a ``CreateTime`` topic); else the broker stamps it on arrival. ``sasl``: a login's
    settings (:func:`sasl_config`), else none.
    """
    from confluent_kafka import Producer

    topic = topic or pos_topic()
    producer = Producer(
        client_config(  # librdkafka's lines to logging, never the user's console
            {
                "bootstrap.servers": bootstrap_servers,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 20,
                "log_level": 3,  # errors only: a broker just started says "coordinator load in progress"
                **(sasl or {}),
            }
        )
    )
    count = 0
    refused: list = []  # the broker's refusals (too large, not authorized, …), one per event

    def delivered(error, _message) -> None:
        if error is not None:
            refused.append(error)

    for index, message in enumerate(messages):
        kwargs = {"timestamp": int(message.arrival.timestamp() * 1000)} if stamp else {}
        while True:
            try:
                producer.produce(
                    topic,
                    value=message.value,
                    key=message.key,
                    partition=partition_of(message, index),
                    on_delivery=delivered,
                    **kwargs,
                )
                break
            except BufferError:  # the local queue is full: let it drain
                producer.poll(0.5)
        count += 1
    if producer.flush(60) != 0:
        raise RuntimeError("not every point-of-sale event was delivered to Kafka")
    if refused:
        raise RuntimeError(
            f"Kafka refused {len(refused)} of {count} point-of-sale events for {topic}: {refused[0].str()}"
        )
    return count


# The embedded default's demo days: a few retried events, a few late ones, one bad message a day.
DEMO_FAULTS = PosFaults(duplicates=0.05, late=0.05, malformed=1)


def day_is_published(consumer, day: date, topic: str | None = None) -> bool:
    """Whether ``topic`` holds ``day``'s own events (anything received from its opening to its
    end); ``consumer``: a landing consumer (``liftoff.stream.landing.landing_consumer``)."""
    from liftoff.batch import Interval
    from liftoff.stream.landing import interval_ranges

    topic = topic or pos_topic()
    opening = datetime.combine(day, OPENING, tzinfo=UTC)
    ranges = interval_ranges(consumer, topic, Interval(opening, opening + timedelta(hours=16)))
    return any(r.first < r.end for r in ranges)


def publish_days(
    bootstrap_servers: str,
    days: Iterable[date],
    *,
    faults: PosFaults = DEMO_FAULTS,
    now: datetime | None = None,
    topic: str | None = None,
) -> dict[date, int]:
    """Replay each of ``days`` the topic does not hold yet (so a second demo publishes nothing
    twice), up to ``now`` (late events still to come are not sent: a broker refuses
    timestamps far in the future). Returns the messages sent per day.

    The replayed topic (``CreateTime``) must keep its days in time order along each
    partition, as a live topic does, or landing finds no offsets for them: a day older than
    what the topic holds already is replayed by rebuilding the topic, every day it held
    and the new ones in date order.
    """
    from liftoff.stream.landing import landing_consumer

    topic = topic or pos_topic()
    now = now or datetime.now(UTC)
    consumer = landing_consumer(bootstrap_servers)  # one for every check of the topic
    try:
        todo = sorted(day for day in set(days) if not day_is_published(consumer, day, topic))
        span = topic_span(consumer, topic)
        rebuild = bool(todo) and span is not None and datetime.combine(todo[0], OPENING, tzinfo=UTC) < span[1]
        if rebuild:
            first, last = span[0].date(), span[1].date()
            held = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            todo = sorted(set(todo) | {d for d in held if day_is_published(consumer, d, topic)})
    finally:
        consumer.close()
    if rebuild:
        recreate_topic(bootstrap_servers, topic)
    sent = {}
    for day in todo:
        messages = [m for m in messages_for_day(day, faults=faults) if m.arrival <= now]
        sent[day] = publish(bootstrap_servers, messages, topic=topic)
    return sent


def topic_span(consumer, topic: str | None = None) -> tuple[datetime, datetime] | None:
    """The oldest and the newest timestamp the topic holds (None when it is empty)."""
    from confluent_kafka import TopicPartition

    topic = topic or pos_topic()
    stamps = []
    for partition in consumer.list_topics(topic, timeout=15).topics[topic].partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=15)
        for offset in {low, high - 1} if high > low else ():
            consumer.assign([TopicPartition(topic, partition, offset)])
            (message,) = consumer.consume(1, timeout=15) or (None,)
            if message is not None and message.error() is None:
                stamps.append(datetime.fromtimestamp(message.timestamp()[1] / 1000, UTC))
    return (min(stamps), max(stamps)) if stamps else None


def recreate_topic(bootstrap_servers: str, topic: str | None = None) -> None:
    """Delete the topic and make it anew, empty (the embedded broker's replays only)."""
    from confluent_kafka.admin import AdminClient

    topic = topic or pos_topic()
    admin = AdminClient(client_config({"bootstrap.servers": bootstrap_servers}))
    for future in admin.delete_topics([topic], operation_timeout=30).values():
        future.result(60)
    deadline = clock.monotonic() + 60
    while True:  # the broker needs a moment before the name is free again
        try:
            create_topic(bootstrap_servers, topic, exists_ok=False)
            return
        except Exception:
            if clock.monotonic() > deadline:
                raise
            clock.sleep(0.5)


def live_sales(rate: float, *, seed: int = 42, limit: int | None = None) -> Iterable[Message]:
    """Sales happening now, ``rate`` a second (the shops open), one message each, unstamped
    (the broker's clock stamps them: the production topic's ``LogAppendTime``)."""
    rng = random.Random(f"pos-live:{seed}")
    index = 0
    while limit is None or index < limit:
        now = datetime.now(UTC)
        sale = _sale(rng, f"pos-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}", lambda _, now=now: now)
        event = {**sale, "event_id": str(uuid.uuid4()), "event_time": sale["sold_at"]}
        yield Message(sale["sale_id"].encode(), json.dumps(event).encode(), now, event)
        index += 1
        clock.sleep(1 / rate)


def main() -> None:
    parser = argparse.ArgumentParser(description="Publish point-of-sale events to Kafka: past days, or live.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--days", nargs="+", type=date.fromisoformat, help="replay these days")
    which.add_argument("--live", action="store_true", help="publish sales as they happen, until stopped")
    parser.add_argument("--rate", type=float, default=0.5, help="live: sales a second")
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:59092")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--duplicates", type=float, default=0.0)
    parser.add_argument("--late", type=float, default=0.0)
    parser.add_argument("--malformed", type=int, default=0)
    parser.add_argument(
        "--sasl-username",
        help=f"log in with SASL SCRAM-SHA-512 as this user, the password from ${PASSWORD_VARIABLE}",
    )
    args = parser.parse_args()
    try:
        sasl = sasl_config(args.sasl_username, os.environ.get(PASSWORD_VARIABLE))
    except ValueError as exc:
        parser.error(str(exc))
    if args.live:  # the topic is the deployment's (LogAppendTime): made by the kafka service, not here
        for message in live_sales(args.rate, seed=args.seed):
            publish(args.bootstrap_servers, [message], stamp=False, sasl=sasl)
        return
    if sasl:  # replays make their topic on the embedded broker, with no login
        parser.error("--sasl-username: live events only (--live); replayed days go to a broker without login")
    create_topic(args.bootstrap_servers, pos_topic())
    faults = PosFaults(args.duplicates, args.late, args.malformed)
    for day in args.days:
        sent = publish(args.bootstrap_servers, messages_for_day(day, seed=args.seed, faults=faults))
        print(f"{day}: {sent} messages to {pos_topic()}")


if __name__ == "__main__":
    main()
