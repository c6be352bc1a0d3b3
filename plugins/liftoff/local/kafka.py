"""The embedded Kafka broker: Apache Kafka (KRaft, one node) from the Apache jars, run by Java.

``make kafka-libs`` resolves the pinned version's jars with Maven (tools/kafka/pom.xml) into
``~/.cache/liftoff/kafka-<version>/libs`` (``LIFTOFF_KAFKA_LIBS``); this module formats a log
folder once (``kafka.tools.StorageTool``) and starts ``kafka.Kafka`` on loopback ports, as
``make kafka``, ``liftoff demo`` and the test fixtures do. A team runs the official image of
the same version (docker-compose.yaml).
"""

from __future__ import annotations

import base64
import functools
import os
import re
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from liftoff.config import PROJECT_ROOT, ConfigError
from liftoff.local.children import terminate_with_parent
from liftoff.local.health import wait_until
from liftoff.local.ports import port_is_free

POM = PROJECT_ROOT / "tools" / "kafka" / "pom.xml"  # the broker's version: one place
HEAP = "-Xms256m -Xmx768m"


@functools.cache
def kafka_version() -> str:
    """The pinned broker version (tools/kafka/pom.xml's ``kafka.version``)."""
    return re.search(r"<kafka.version>(.+?)</kafka.version>", POM.read_text()).group(1)


def kafka_libs() -> Path:
    default = Path.home() / ".cache" / "liftoff" / f"kafka-{kafka_version()}" / "libs"
    return Path(os.environ.get("LIFTOFF_KAFKA_LIBS", default))


def missing_reason() -> str | None:
    """Why the embedded broker cannot start here (no Java, jars not resolved), or None."""
    if shutil.which("java") is None:
        return "Java is not installed (Kafka runs on Java 17)"
    if not POM.exists():
        return f"the broker's pin {POM} is not here (run from a checkout of the project)"
    if not (kafka_libs() / ".complete").exists():
        return f"the Kafka {kafka_version()} jars are not resolved in {kafka_libs()} (make kafka-libs)"
    return None


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def broker_answers(bootstrap_servers: str, timeout: float = 2) -> bool:
    """Whether a Kafka broker answers there (its metadata loaded)."""
    host, _, port = bootstrap_servers.split(",")[0].rpartition(":")
    if host in ("127.0.0.1", "localhost") and not _listening(int(port)):
        return False
    from confluent_kafka.admin import AdminClient

    from liftoff.stream.topics import client_config

    try:
        AdminClient(client_config({"bootstrap.servers": bootstrap_servers})).list_topics(timeout=timeout)
    except Exception:  # the broker answers once its metadata is loaded
        return False
    return True


def cluster_uuid() -> str:
    """A random cluster id as Kafka's own ``Uuid.randomUuid()`` makes it: base64url of 16 bytes,
    never starting with ``-`` (the storage tool would read it as an option: 1 id in 64)."""
    while (text := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
        pass
    return text


_ERROR = re.compile(r"\bERROR\b|Exception\b|Error\b")


def _why(log: Path, offset: int) -> str:
    """Why the broker stopped, from what its log says since ``offset`` (this start's lines;
    Kafka's own exception first): ``: <reason>``, or nothing."""
    with log.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode(errors="replace").splitlines()
    errors = [line.strip().removeprefix("Caused by: ") for line in lines if _ERROR.search(line)]
    kafka = [line for line in errors if line.startswith("org.apache.kafka")]
    return f": {(kafka or errors)[-1][:400]}" if errors else ""


@dataclass
class EmbeddedKafka:
    """A one-node KRaft broker with its log in ``root``, on ``port`` (controller: ``controller_port``)."""

    root: Path
    port: int = 59092
    controller_port: int = 59093
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, main: str, *args: str) -> list[str]:
        return ["java", *HEAP.split(), "-cp", f"{kafka_libs()}/*", main, *args]

    def _properties(self) -> Path:
        path = self.root / "server.properties"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.root / "data"),
            "num.partitions": "3",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.check.interval.ms": "5000",
        }
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        return path

    def start(self, timeout: float = 90) -> EmbeddedKafka:
        if (reason := missing_reason()) is not None:
            raise ConfigError(f"the embedded Kafka broker cannot start: {reason}")
        for port, listener in ((self.port, "its clients'"), (self.controller_port, "its controller's")):
            if not port_is_free(port):
                raise ConfigError(
                    f"port {port} ({listener} listener) is taken: stop what uses it or set LIFTOFF_KAFKA_PORT"
                    " (the controller listens on the next port)"
                )
        properties = self._properties()
        log = self.root / "broker.log"
        if not (self.root / "data" / "meta.properties").exists():
            cluster_id = cluster_uuid()
            done = subprocess.run(
                self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)),
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                log.write_text(done.stdout + done.stderr)
                last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
                raise ConfigError(f"formatting the Kafka log folder failed: {''.join(last)[:400]}; see {log}")
        offset = log.stat().st_size if log.exists() else 0  # the log is kept across starts
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                self._java("kafka.Kafka", str(properties)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=terminate_with_parent,  # never outlives the command that started it
            )
        stopped = wait_until(
            lambda: broker_answers(self.bootstrap_servers),
            timeout=timeout,
            every=0.5,
            gone=lambda: None if self.process.poll() is None else "exited",
        )
        if stopped == "exited":
            reason = _why(log, offset)  # before anything of a shutdown is logged
            raise ConfigError(f"the embedded Kafka broker did not start{reason}; see {log}")
        if stopped == "timeout":
            self.stop()
            raise ConfigError(f"the embedded Kafka broker did not answer in {timeout:.0f} s; see {log}")
        return self

    def stop(self, grace: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # a controlled shutdown: the log is closed cleanly
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedKafka:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
