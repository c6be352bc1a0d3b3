"""The shops' terminals reach Kafka from outside the compose network, and the platform reads
with its own credentials (issue #25, item 5).

A real broker of the Apache jars, configured with docker-compose.yaml's own kafka settings:
its KAFKA_* variables become properties as the official image makes them (KafkaDockerWrapper:
`KAFKA_` dropped, lower case, `_` a dot, `___` a dash, `__` an underscore), only the ports
moved to free loopback ones (the loopback listeners keep their host names); the logins, the
terminals' ACLs and the topic are made by the service's own tools/kafka/logins.sh over the
LOCAL listener (the image's kafka-configs.sh / kafka-acls.sh / kafka-topics.sh: the same
classes from the jars). Then a terminal publishes a point-of-sale event with its login on the
EXTERNAL listener (SASL SCRAM-SHA-512) and the platform reads it with its login on the
INTERNAL one (SASL too); a wrong password and a client without SASL are refused on both; the
terminals' login can write the topic, nothing else.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from liftoff.config import PROJECT_ROOT
from liftoff.local.kafka import EmbeddedKafka, kafka_libs, missing_reason
from liftoff.stream.topics import client_config, create_topic
from sales_api.pos import live_sales, publish, sasl_config
from sales_api.server import free_port
from tests.compose_cli import run_healthcheck, team_services
from tests.conftest import IN_CI

TIMESTAMP_LOG_APPEND_TIME = 2  # confluent_kafka.TIMESTAMP_LOG_APPEND_TIME

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
KAFKA = COMPOSE["services"]["kafka"]
SOURCES = yaml.safe_load((PROJECT_ROOT / "include" / "sources.yaml").read_text())
TOPIC = SOURCES["sources"]["pos"]["kafka"]["topic"]
SCRIPT = PROJECT_ROOT / "tools" / "kafka" / "logins.sh"
USER = "pos-terminal"
PASSWORD = "a-terminal-password-" + uuid.uuid4().hex[:8]
PLATFORM = "liftoff-platform"  # LIFTOFF_KAFKA_USER's default, a super user
PLATFORM_PASSWORD = "a-platform-password-" + uuid.uuid4().hex[:8]
# the image's KafkaDockerWrapper leaves these to the JVM, not server.properties
NOT_SETTINGS = {
    "KAFKA_VERSION", "KAFKA_HEAP_OPT", "KAFKA_LOG4J_OPTS", "KAFKA_OPTS", "KAFKA_JMX_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_LOG4J_ROOT_LOGLEVEL",
    "KAFKA_LOG4J_LOGGERS", "KAFKA_TOOLS_LOG4J_LOGLEVEL", "KAFKA_JMX_HOSTNAME",
}  # fmt: skip
TOOLS = {
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",  # the healthcheck's
}
# the compose file's listeners: the clients' on every interface, the loopback ones on 127.0.0.1
COMPOSE_LISTENERS = {
    "INTERNAL": ":9092", "CONTROLLER": "127.0.0.1:9093", "EXTERNAL": ":9094", "LOCAL": "127.0.0.1:9095",
}  # fmt: skip


def interpolate(value: str, variables: dict[str, str]) -> str:
    """``${VAR:-default}`` / ``${VAR}`` as Compose resolves them, from ``variables``."""

    def one(match: re.Match) -> str:
        name, default = match.group(1), match.group(3) or ""
        return variables.get(name) or default

    return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(:[-?]([^}]*))?\}", one, value)


def image_properties(environment: dict, variables: dict[str, str]) -> dict[str, str]:
    """The server.properties the apache/kafka image writes from the service's environment."""
    settings = {}
    for key, value in environment.items():
        if key.startswith("KAFKA_") and key not in NOT_SETTINGS:
            name = key.replace("KAFKA_", "").lower().replace("_", ".").replace("...", "-").replace("..", "_")
            settings[name] = interpolate(str(value), variables)
    return settings


class ComposeKafka(EmbeddedKafka):
    """The compose kafka service's settings on loopback: the LOCAL listener's ``port`` (no
    login; what EmbeddedKafka waits on and the script uses), the controller's, the platform's
    ``internal_port`` (kafka:9092) and the terminals' ``external_port`` (advertised as
    KAFKA_EXTERNAL_HOST:KAFKA_EXTERNAL_PORT)."""

    def __init__(
        self, root: Path, port: int, controller_port: int, internal_port: int, external_port: int
    ) -> None:
        super().__init__(root, port=port, controller_port=controller_port)
        self.internal_port = internal_port
        self.external_port = external_port
        variables = {"KAFKA_EXTERNAL_HOST": "127.0.0.1", "KAFKA_EXTERNAL_PORT": str(external_port)}
        self.settings = image_properties(KAFKA["environment"], variables)

    @property
    def internal_servers(self) -> str:
        return f"127.0.0.1:{self.internal_port}"

    @property
    def external_servers(self) -> str:
        return f"127.0.0.1:{self.external_port}"

    def _properties(self) -> Path:
        settings = dict(self.settings)
        ports = {
            "INTERNAL": self.internal_port, "CONTROLLER": self.controller_port,
            "EXTERNAL": self.external_port, "LOCAL": self.port,
        }  # fmt: skip
        listeners = dict(item.split("://") for item in settings["listeners"].split(","))
        assert listeners == COMPOSE_LISTENERS, settings["listeners"]
        # the same interfaces (here all loopback), the test's ports
        settings["listeners"] = ",".join(f"{name}://127.0.0.1:{port}" for name, port in ports.items())
        assert "INTERNAL://kafka:9092," in settings["advertised.listeners"]  # the containers' name
        assert settings["advertised.listeners"].endswith(",LOCAL://localhost:9095")
        settings["advertised.listeners"] = (
            settings["advertised.listeners"]
            .replace("INTERNAL://kafka:9092", f"INTERNAL://127.0.0.1:{self.internal_port}")
            .replace("LOCAL://localhost:9095", f"LOCAL://localhost:{self.port}")
        )
        # the controller as the compose file names it: localhost, its listener on 127.0.0.1
        assert settings["controller.quorum.voters"] == "1@localhost:9093"
        settings["controller.quorum.voters"] = f"1@localhost:{self.controller_port}"
        settings["log.dirs"] = str(self.root / "data")
        settings["group.initial.rebalance.delay.ms"] = "0"  # a test's consumer joins at once
        path = self.root / "server.properties"
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        return path


def provision(broker: ComposeKafka, tools: Path, password: str = PASSWORD) -> subprocess.CompletedProcess:
    """tools/kafka/logins.sh as the kafka service runs it, with the jars' tools, on LOCAL."""
    env = {
        **os.environ,
        "PATH": f"{tools}:{os.environ['PATH']}",
        "LIFTOFF_KAFKA_PASSWORD": PLATFORM_PASSWORD,  # LIFTOFF_KAFKA_USER: the script's default
        "LIFTOFF_POS_KAFKA_USER": USER,
        "LIFTOFF_POS_KAFKA_PASSWORD": password,
        "LIFTOFF_POS_TOPIC": KAFKA["environment"]["LIFTOFF_POS_TOPIC"],
        "LIFTOFF_KAFKA_BOOTSTRAP": f"localhost:{broker.port}",  # the script's default but the port
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComposeKafka]:
    if (reason := missing_reason()) is not None:
        if IN_CI:
            pytest.fail(f"CI must provide Kafka: {reason}")
        pytest.skip(f"no Kafka broker here: {reason}")
    root = tmp_path_factory.mktemp("kafka-external")
    tools = root / "bin"  # the image's kafka-configs.sh, kafka-acls.sh …, from the jars
    tools.mkdir()
    for name, main in TOOLS.items():
        (tools / name).write_text(f'#!/bin/sh\nexec java -Xmx256m -cp "{kafka_libs()}/*" {main} "$@"\n')
        (tools / name).chmod(0o755)
    kafka = ComposeKafka(root / "broker", free_port(), free_port(), free_port(), free_port())
    kafka.start()  # answering on LOCAL, without a login
    try:
        create_topic(kafka.bootstrap_servers, "other.topic")
        done = provision(kafka, tools)  # the topic too (what kafka-init did)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"the SCRAM-SHA-512 login of {PLATFORM} is set" in done.stdout
        assert f"{USER} may write to {TOPIC}" in done.stdout
        assert f"the topic {TOPIC} is there" in done.stdout
        # idempotent: the kafka service runs it at every start
        assert provision(kafka, tools).returncode == 0
        yield kafka
    finally:
        kafka.stop()


def terminal(broker: ComposeKafka, errors: list, **overrides: object):
    """A producer as a shop's terminal configures it (docs/deployment.md)."""
    from confluent_kafka import Producer

    config = {
        "bootstrap.servers": broker.external_servers,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": USER,
        "sasl.password": PASSWORD,
        "enable.idempotence": True,
        "acks": "all",
        "message.timeout.ms": 8000,
        "error_cb": errors.append,
        **overrides,
    }
    return Producer(client_config({k: v for k, v in config.items() if v is not None}))


def platform_consumer(broker: ComposeKafka, **overrides: object):
    """A consumer as Airflow's connection kafka makes it: its extra, on INTERNAL."""
    from confluent_kafka import Consumer

    config = {
        "bootstrap.servers": broker.internal_servers,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": PLATFORM,
        "sasl.password": PLATFORM_PASSWORD,
        "group.id": f"test-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
        **overrides,
    }
    return Consumer(client_config({k: v for k, v in config.items() if v is not None}))


def send(producer, topic: str = TOPIC) -> tuple[object, bytes, bytes]:
    """One live point-of-sale event, flushed: (its delivery error or None, key, value)."""
    (message,) = live_sales(1000, limit=1)
    reports = []
    producer.produce(topic, key=message.key, value=message.value, on_delivery=lambda e, m: reports.append(e))
    producer.flush(20)
    assert len(reports) == 1
    return reports[0], message.key, message.value


def test_compose_settings_are_the_brokers() -> None:
    """What the test broker runs is what the compose service sets (nothing left out)."""
    settings = image_properties(KAFKA["environment"], {})
    protocols = dict(item.split(":") for item in settings["listener.security.protocol.map"].split(","))
    assert protocols == {
        "INTERNAL": "SASL_PLAINTEXT", "CONTROLLER": "PLAINTEXT",
        "EXTERNAL": "SASL_PLAINTEXT", "LOCAL": "PLAINTEXT",
    }  # fmt: skip
    # no login on the loopback listeners only
    listeners = dict(item.split("://") for item in settings["listeners"].split(","))
    assert listeners == COMPOSE_LISTENERS
    assert all(listeners[name].startswith("127.0.0.1:") for name, p in protocols.items() if p == "PLAINTEXT")
    assert settings["advertised.listeners"] == (
        "INTERNAL://kafka:9092,EXTERNAL://localhost:9094,LOCAL://localhost:9095"
    )
    assert settings["inter.broker.listener.name"] == "LOCAL"
    assert settings["controller.listener.names"] == "CONTROLLER"
    assert settings["controller.quorum.voters"] == "1@localhost:9093"
    for listener in ("internal", "external"):
        assert settings[f"listener.name.{listener}.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
        assert "ScramLoginModule" in settings[f"listener.name.{listener}.scram-sha-512.sasl.jaas.config"]
    assert settings["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert settings["super.users"].split(";") == ["User:ANONYMOUS", f"User:{PLATFORM}"]
    # the healthcheck asks the LOCAL listener (INTERNAL wants a login)
    assert "--bootstrap-server localhost:9095" in KAFKA["healthcheck"]["test"][1]
    assert KAFKA["environment"]["LIFTOFF_POS_TOPIC"] == TOPIC
    assert not any(key.startswith("liftoff") for key in settings)


def test_a_terminal_publishes_with_its_login_and_the_pipeline_reads_it_inside(broker: ComposeKafka) -> None:
    from confluent_kafka import TopicPartition

    errors: list = []
    producer = terminal(broker, errors)
    # the broker advertises EXTERNAL as KAFKA_EXTERNAL_HOST:KAFKA_EXTERNAL_PORT to the terminal
    (advertised,) = producer.list_topics(TOPIC, timeout=20).brokers.values()
    assert (advertised.host, advertised.port) == ("127.0.0.1", broker.external_port)
    error, key, value = send(producer)
    assert error is None, error
    assert errors == []

    consumer = platform_consumer(broker)  # the landing's side: INTERNAL, the platform's login
    try:
        partitions = consumer.list_topics(TOPIC, timeout=20).topics[TOPIC].partitions
        consumer.assign([TopicPartition(TOPIC, p, 0) for p in partitions])  # from the first offset
        seen = {}
        for _ in range(40):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                seen[(message.key(), message.value())] = message.timestamp()[0]
            if (key, value) in seen:
                break
        assert (key, value) in seen
        assert seen[(key, value)] == TIMESTAMP_LOG_APPEND_TIME  # the topic's setting
    finally:
        consumer.close()


def test_the_script_makes_the_topic_as_kafka_init_did(broker: ComposeKafka) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient(client_config({"bootstrap.servers": broker.bootstrap_servers}))
    topic = admin.list_topics(TOPIC, timeout=20).topics[TOPIC]
    assert topic.error is None and len(topic.partitions) == 3
    assert {len(p.replicas) for p in topic.partitions.values()} == {1}
    resource = ConfigResource(ConfigResource.Type.TOPIC, TOPIC)
    configs = admin.describe_configs([resource])[resource].result(20)
    assert configs["message.timestamp.type"].value == "LogAppendTime"
    assert configs["retention.ms"].value == str(7 * 24 * 3600 * 1000)


def test_the_internal_listener_refuses_a_client_without_login(broker: ComposeKafka) -> None:
    """Issue #25 item 5: no container on the compose network administers the broker anonymously."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient

    errors: list = []
    admin = AdminClient(
        client_config({"bootstrap.servers": broker.internal_servers, "error_cb": errors.append})
    )
    with pytest.raises(KafkaException):  # the broker closes the connection at the first request
        admin.list_topics(timeout=5)
    admin.poll(1)  # the connection's errors to error_cb
    assert {e.code() for e in errors} & {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN}, errors

    errors = []
    consumer = platform_consumer(broker, **{"sasl.password": "not-the-password", "error_cb": errors.append})
    try:
        with pytest.raises(KafkaException):
            consumer.list_topics(TOPIC, timeout=5)
        consumer.poll(1)  # its errors to error_cb
        assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors
    finally:
        consumer.close()


def test_the_platforms_login_is_a_super_user_on_internal_only(broker: ComposeKafka) -> None:
    """Its login reads any topic on INTERNAL (the connection kafka's extra), as before ANONYMOUS."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(
        client_config(
            {
                "bootstrap.servers": broker.internal_servers,
                "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": PLATFORM,
                "sasl.password": PLATFORM_PASSWORD,
            }
        )
    )
    topics = admin.list_topics(timeout=20).topics
    assert {TOPIC, "other.topic"} <= set(topics)
    assert all(topics[name].error is None for name in (TOPIC, "other.topic"))


def test_the_simulator_publishes_on_internal_with_the_terminals_login(broker: ComposeKafka) -> None:
    """The pos-simulator service: sales_api.pos --sasl-username, its password from the environment."""
    (message,) = live_sales(1000, limit=1)
    assert publish(broker.internal_servers, [message], stamp=False, sasl=sasl_config(USER, PASSWORD)) == 1
    with pytest.raises(ValueError, match="LIFTOFF_POS_KAFKA_PASSWORD"):
        sasl_config(USER, None)


def test_a_wrong_password_fails_authentication(broker: ComposeKafka) -> None:
    from confluent_kafka import KafkaError

    errors: list = []
    error, _, _ = send(terminal(broker, errors, **{"sasl.password": "not-the-password"}))
    assert error is not None  # never delivered
    failed = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    assert failed, errors
    assert "Authentication failed" in failed[0].str() and "SCRAM-SHA-512" in failed[0].str()


def test_a_client_without_sasl_is_refused(broker: ComposeKafka) -> None:
    from confluent_kafka import KafkaError

    errors: list = []
    producer = terminal(
        broker, errors, **{"security.protocol": "PLAINTEXT", "sasl.mechanism": None, "sasl.username": None,
                           "sasl.password": None, "message.timeout.ms": 5000}
    )  # fmt: skip
    error, _, _ = send(producer)
    assert error is not None and error.code() == KafkaError._MSG_TIMED_OUT, error
    # the broker closes the connection at the first request that is not the SASL handshake
    assert {e.code() for e in errors} & {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN}, errors


def test_another_mechanism_is_refused(broker: ComposeKafka) -> None:
    from confluent_kafka import KafkaError

    errors: list = []
    error, _, _ = send(terminal(broker, errors, **{"sasl.mechanism": "PLAIN"}))
    assert error is not None
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors


def test_the_terminals_login_may_only_write_the_topic(broker: ComposeKafka) -> None:
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    errors: list = []
    error, _, _ = send(terminal(broker, errors), topic="other.topic")
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error

    consumer = Consumer(
        client_config(
            {
                "bootstrap.servers": broker.external_servers,
                "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": USER,
                "sasl.password": PASSWORD,
                "group.id": "a-terminal-reading",
                "enable.auto.commit": False,
            }
        )
    )
    try:
        consumer.assign([TopicPartition(TOPIC, p, 0) for p in range(3)])  # the first test's event there
        codes = set()
        for _ in range(12):
            message = consumer.poll(0.5)
            if message is not None:
                assert message.error() is not None, "a terminal's login read the topic"
                codes.add(message.error().code())
        # no READ on the topic nor on any group: denied at the group (a consumer's first step)
        denied = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}
        assert codes and codes <= denied, codes
    finally:
        consumer.close()


def test_the_services_healthcheck_passes_once_the_logins_are_set(
    broker: ComposeKafka, tmp_path: Path
) -> None:
    """The kafka service's healthcheck, Compose's resolved command, against the broker: the
    image's tools moved to the jars', the LOCAL listener's port to the test's, run.sh's ready
    file to one of the test's; unhealthy until run.sh has set the logins (the file)."""
    services = team_services(tmp_path / "compose")
    ready = tmp_path / "liftoff-kafka-logins.ready"
    moves = {
        "/tmp/liftoff-kafka-logins.ready": str(ready),
        "/opt/kafka/bin/": f"{broker.root.parent / 'bin'}/",
        "localhost:9095": f"localhost:{broker.port}",
    }
    before = run_healthcheck(services, "kafka", dict(os.environ), moves, attempts=1)
    assert before.returncode != 0  # the logins not (yet) set: not healthy
    ready.touch()  # as run.sh does once logins.sh has succeeded (the fixture ran it)
    after = run_healthcheck(services, "kafka", dict(os.environ), moves)
    assert after.returncode == 0, after.stdout + after.stderr
