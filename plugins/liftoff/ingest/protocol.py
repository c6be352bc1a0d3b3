"""The Airbyte protocol, spoken to a connector process: ``spec``, ``check``, ``discover``, ``read``.

A connector (a PyPI ``airbyte-source-*`` in its own virtualenv, see ``liftoff.ingest.connectors``)
runs as a child process with the machine's environment and none of the task's secrets. Its
config goes to it in a file only its user can read, in a private temporary folder removed
after the command: never on argv. It answers with one JSON message a line on stdout. Every
text of the connector's that reaches a log or an error (LOG messages, TRACE errors, stderr)
has the config's secret values (the fields its spec marks ``airbyte_secret``) masked.

Failures: a TRACE error with ``failure_type: config_error`` (bad credentials, a bad config)
raises :class:`ConnectorConfigError` (a ConfigError: fails at once, one line); any other
error or exit raises :class:`ConnectorFailed` (transient: Airflow retries the task).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from liftoff.config import TELEMETRY_OFF, ConfigError
from liftoff.errors import Transient

log = logging.getLogger(__name__)

# What the connector process gets of the task's environment: the machine's, never the
# task's secrets (connections, webhook, passwords); its own config comes in its config file.
CONNECTOR_ENV = (
    "PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PGAPPNAME",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip
MASK = "***"


class IngestError(Transient):
    """The connector run failed; the message says why in one line."""


class ConnectorFailed(IngestError):
    """The connector failed (an API or network fault, a crash): transient, retried."""


class ConnectorConfigError(ConnectorFailed, ConfigError):
    """The connector said its config is wrong (``config_error``: bad credentials, a missing
    bucket): retrying cannot help, so it fails at once, in one line."""


def connector_env() -> dict[str, str]:
    """The connector process's environment: :data:`CONNECTOR_ENV` of this one, telemetry off."""
    return {
        **{name: os.environ[name] for name in CONNECTOR_ENV if name in os.environ},
        **TELEMETRY_OFF,
    }


def secret_paths(spec: dict) -> list[str]:
    """The dotted paths of the config fields a connector's spec marks ``airbyte_secret``
    (inside nested objects and each ``oneOf``/``anyOf`` branch: a branch adds no segment)."""
    found: list[str] = []

    def walk(schema: dict, prefix: str) -> None:
        for branch_key in ("oneOf", "anyOf", "allOf"):
            for branch in schema.get(branch_key) or []:
                if isinstance(branch, dict):
                    walk(branch, prefix)
        for name, definition in (schema.get("properties") or {}).items():
            if not isinstance(definition, dict):
                continue
            path = f"{prefix}{name}"
            if definition.get("airbyte_secret"):
                if path not in found:
                    found.append(path)
            else:
                walk(definition, f"{path}.")

    walk(spec.get("connectionSpecification") or {}, "")
    return found


def get_path(config: dict, path: str) -> object:
    value: object = config
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def set_path(config: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"config field {path}: {part} is not an object")
    node[last] = value


@dataclass
class Masker:
    """Masks secret values in a connector's text (its logs, its errors)."""

    secrets: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, config: dict, paths: list[str]) -> Masker:
        values = {get_path(config, path) for path in paths}
        # longest first: a secret that holds another is masked whole
        return cls(sorted((v for v in values if isinstance(v, str) and v), key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


@dataclass
class Connector:
    """One connector executable and the secrets to keep out of what it says."""

    executable: Path
    label: str  # for messages: "airbyte-source-s3==4.14.2 (source prices)"
    mask: Masker = field(default_factory=Masker)
    timeout_seconds: float = 600.0  # spec, check, discover; a read has the caller's bound

    def spec(self) -> dict:
        for message in self._run(["spec"]):
            if message.get("type") == "SPEC":
                return message["spec"]
        raise ConnectorFailed(f"{self.label} gave no SPEC")

    def check(self, config: dict) -> None:
        """Raise ConnectorConfigError (one line, masked) unless the connector's check succeeds."""
        with _private_files(config=config) as files:
            for message in self._run(["check", "--config", files["config"]]):
                if message.get("type") == "CONNECTION_STATUS":
                    status = message["connectionStatus"]
                    if status.get("status") == "SUCCEEDED":
                        return
                    reason = self.mask(str(status.get("message") or "no reason given"))
                    raise ConnectorConfigError(f"{self.label}: check failed: {_one_line(reason)}")
        raise ConnectorFailed(f"{self.label} gave no CONNECTION_STATUS")

    def discover(self, config: dict) -> dict[str, dict]:
        """The connector's streams (AirbyteStream objects as dicts), by name."""
        with _private_files(config=config) as files:
            for message in self._run(["discover", "--config", files["config"]]):
                if message.get("type") == "CATALOG":
                    return {stream["name"]: stream for stream in message["catalog"]["streams"]}
        raise ConnectorFailed(f"{self.label} gave no CATALOG")

    def read(
        self, config: dict, catalog: dict, state: list | None, *, timeout_seconds: float
    ) -> Iterator[dict]:
        """The RECORD and STATE messages of a read, as they come; raises at the end on an error."""
        with _private_files(config=config, catalog=catalog, state=state) as files:
            args = ["read", "--config", files["config"], "--catalog", files["catalog"]]
            if "state" in files:
                args += ["--state", files["state"]]
            yield from self._run(args, timeout_seconds=timeout_seconds, wanted=("RECORD", "STATE"))

    def _run(
        self, args: list[str], *, timeout_seconds: float | None = None, wanted: tuple[str, ...] | None = None
    ) -> Iterator[dict]:
        """Run the connector; yield its messages (``wanted`` types only, if given), handling
        LOG and TRACE on the way; raise on a TRACE error or a failed exit."""
        errors: list[tuple[str, str]] = []  # (failure type, message)
        with tempfile.TemporaryFile(mode="w+") as stderr:
            process = subprocess.Popen(
                [str(self.executable), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=connector_env(),
                bufsize=1024 * 1024,
                text=True,
            )
            timer = _Deadline(process, timeout_seconds or self.timeout_seconds)
            try:
                for line in process.stdout:
                    if not line.startswith("{"):
                        if line.strip():
                            log.debug("%s: %s", self.label, self.mask(line.rstrip()[:1000]))
                        continue
                    try:
                        message = json.loads(line)
                    except json.JSONDecodeError:
                        log.debug("%s: %s", self.label, self.mask(line.rstrip()[:1000]))
                        continue
                    kind = message.get("type")
                    if kind == "LOG":
                        self._log(message.get("log") or {})
                    elif kind == "TRACE":
                        error = (message.get("trace") or {}).get("error")
                        if error:
                            errors.append(
                                (str(error.get("failure_type") or "system_error"), self.mask(_said(error)))
                            )
                    elif wanted is None or kind in wanted:
                        yield message
                code = process.wait()
            finally:
                timer.cancel()
                if process.poll() is None:
                    process.kill()
                    process.wait()
                process.stdout.close()
            if timer.expired:
                raise ConnectorFailed(f"{self.label}: `{args[0]}` timed out after {timer.seconds:.0f}s")
            if errors:
                config_errors = [message for kind, message in errors if kind == "config_error"]
                if config_errors:
                    raise ConnectorConfigError(f"{self.label}: {_one_line(config_errors[0])}")
                raise ConnectorFailed(f"{self.label}: {_one_line(errors[0][1])}")
            if code != 0:
                stderr.seek(0)
                said = [line for line in stderr.read().strip().splitlines() if line.strip()]
                last = self.mask(said[-1]) if said else f"exit {code}"
                log.warning("%s: the last lines it wrote:\n%s", self.label, self.mask("\n".join(said[-20:])))
                raise ConnectorFailed(f"{self.label}: `{args[0]}` failed: {_one_line(last)}")

    def _log(self, entry: dict) -> None:
        level = str(entry.get("level") or "INFO").upper()
        text = self.mask(str(entry.get("message") or ""))[:2000]
        if level in ("ERROR", "FATAL"):
            log.warning("%s: %s", self.label, text)
        elif level == "WARN":
            log.info("%s: %s", self.label, text)
        else:
            log.debug("%s: %s", self.label, text)


def _said(error: dict) -> str:
    """A TRACE error's message, and its internal message's first line when that says more."""
    message = str(error.get("message") or "").strip()
    internal = str(error.get("internal_message") or "").strip().splitlines()
    if internal and internal[0] and internal[0] not in message:
        return f"{message} ({internal[0]})" if message else internal[0]
    return message or "the connector failed"


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 400 else line[:397] + "..."


class _Deadline:
    """Kills the process at its deadline (a read's lines may stop coming at all)."""

    def __init__(self, process: subprocess.Popen, seconds: float) -> None:
        import threading

        self.seconds = seconds
        self.expired = False
        self._process = process
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        self._process.kill()

    def cancel(self) -> None:
        self._timer.cancel()


@contextmanager
def _private_files(**documents: object) -> Iterator[dict[str, str]]:
    """Each document (None: left out) as a JSON file in a fresh folder only this user can
    read (0700, files 0600); the folder is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="liftoff-connector-") as folder:
        os.chmod(folder, 0o700)
        paths = {}
        for name, document in documents.items():
            if document is None:
                continue
            path = Path(folder) / f"{name}.json"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(document, handle)
            paths[name] = str(path)
        yield paths
