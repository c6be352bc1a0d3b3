"""Settings from the environment (``LIFTOFF_*``) and the sources from include/sources.yaml."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import yaml
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from liftoff.errors import Permanent, Transient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
DBT_PROJECT_DIR = INCLUDE_DIR / "dbt"
# The dbt layers, in build order: each is a folder of models/ and a schema of the warehouse.
LAYERS = ("bronze", "silver", "gold")
GOLD_SCHEMA = LAYERS[-1]  # what analysts read
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"  # `make manifest`; Cosmos renders from it

# Closed network: every tool that phones home is told not to (the one list, shipped with the package).
TELEMETRY_FILE = Path(__file__).with_name("telemetry.env")


TELEMETRY_OFF = {key: value or "" for key, value in dotenv_values(TELEMETRY_FILE).items()}


DbtExecution = Literal["local", "build", "watcher", "layer"]


class ConfigError(Permanent):
    """A configuration problem, reported to people as one line; retrying does not fix it."""


class Unavailable(Transient):
    """A service (the warehouse, an API, the object store) did not answer: transient, so
    Airflow retries the task with its backoff; the CLI reports it as one line."""


class Settings(BaseSettings):
    """Platform settings, from ``LIFTOFF_*`` environment variables."""

    # The environment first, then an env file: get_settings() reads the project's .env (the
    # one docker compose reads; LIFTOFF_ENV_FILE names another, or none when empty).
    model_config = SettingsConfigDict(env_prefix="LIFTOFF_", extra="ignore")

    home: Path = PROJECT_ROOT / ".liftoff"
    warehouse_url: SecretStr | None = None
    # The original README's warehouse variables (docker compose's .env): the owner's login,
    # the warehouse when LIFTOFF_WAREHOUSE_URL is not set (DB_HOST_PROD as this machine
    # reaches it: inside the compose network it is the service, `postgres`).
    db_host_prod: str | None = Field(None, validation_alias="DB_HOST_PROD")
    db_port_prod: int = Field(5432, validation_alias="DB_PORT_PROD")
    db_name_prod: str = Field("liftoff", validation_alias="DB_NAME_PROD")
    db_user_prod: str | None = Field(None, validation_alias="DB_USER_PROD")
    db_pass_prod: SecretStr | None = Field(None, validation_alias="DB_PASS_PROD")
    embedded_pg_port: int = 55432
    api_url: str = "http://127.0.0.1:8765"
    api_key: str | None = None
    # The archive: http(s)://ACCESS_KEY:SECRET_KEY@host:port/bucket (MinIO/S3) or
    # file:///folder; see liftoff.archive.location (a team's tasks need it or `minio`).
    archive_url: SecretStr | None = None
    airbyte_python: Path = PROJECT_ROOT / ".venv-airbyte" / "bin" / "python"
    # The PyPI connectors' virtualenvs, one per package and version (liftoff.ingest.connectors).
    connectors_dir: Path = Path.home() / ".cache" / "liftoff" / "connectors"
    sources_file: Path = INCLUDE_DIR / "sources.yaml"
    # How Cosmos runs the dbt layers (chosen by benchmarks/bench_dbt_cosmos.py, see
    # docs/benchmarks.md): `layer`, one `dbt build` task per layer (each model's tests
    # right after it); `build`, one `dbt build` task per model; `local`, a run task then a
    # test task per model; `watcher`, Cosmos' watcher mode (one `dbt build` per layer and a
    # sensor task per model and per model's tests).
    dbt_execution: DbtExecution = "layer"
    # dbt's threads (models of a layer built side by side), under Airflow and plain dbt alike.
    dbt_threads: int = 2
    # The first retry's delay of a failed task (a database, API or store outage); doubled
    # at each retry (Airflow's exponential backoff).
    retry_delay_seconds: float = Field(60.0, ge=0)
    # How sources are ingested in this deployment: the Airbyte CDK here, or an Airbyte server.
    ingest_mode: Literal["local", "airbyte"] = "local"
    # The warehouse roles (cluster-wide in PostgreSQL; liftoff.warehouse.roles). The pipeline
    # logs in with its password (the embedded default makes a fresh one at every start). An
    # app role whose password is set here can log in; without one it is NOLOGIN.
    pipeline_role: str = "pipeline"
    pipeline_password: SecretStr | None = None
    analyst_role: str = "analyst"
    entry_writer_role: str = "entry_writer"
    analyst_password: SecretStr | None = None
    entry_writer_password: SecretStr | None = None
    # What the entry app connects with: the dashboards as the analyst role, the form as
    # the entry writer (postgresql://role:password@host:port/db; `liftoff app` sets both).
    analyst_url: SecretStr | None = None
    entry_url: SecretStr | None = None
    # `required` (the team deployment): the entry app asks for a seller's login (a warehouse
    # role of `liftoff deployment seller add`) and enters sales as that person, on the
    # entry URL's server and database; `none` (the embedded default): the app enters sales as
    # the entry writer.
    entry_login: Literal["none", "required"] = "none"
    # `liftoff airflow`: the API server's port and the admin's password (else one generated
    # on the first start and kept in the home, 0600).
    airflow_port: int = Field(8080, ge=1, le=65535)
    # The Kafka brokers the stream sources read, as host:port,... (on the embedded default the
    # Airflow connection `kafka` is made from it). When unset, the embedded default starts its
    # own broker if Java is installed (on `liftoff kafka`'s port; its controller listens on the
    # next one).
    kafka_bootstrap_servers: str | None = None
    kafka_port: int = Field(59092, ge=1, le=65534)
    # How pos_today (gold_sales_today) is started: `watcher`, by each new message on the
    # topic (an AssetWatcher in the triggerer); `minute`, every minute. The freshness
    # benchmark (benchmarks/bench_stream_freshness.py) measures both.
    preview_schedule: Literal["watcher", "minute"] = "watcher"
    # Sources this deployment does not run (comma-separated): left out of the DAG, e.g. `pos`
    # where there is no broker. The embedded default adds `pos` itself when it cannot start one.
    skip_sources: str = ""
    airflow_admin_password: SecretStr | None = None
    # the MinIO user of the pipeline's tasks, made by `liftoff archive init --pipeline-user`
    archive_pipeline_secret: SecretStr | None = None
    # Alerts (liftoff.notifiers.alerts): e-mail to these addresses (comma-separated) through the SMTP
    # connection `smtp_default`, and/or a Slack-style webhook; a run still unfinished this
    # long after it was queued alerts too; messages link the runbook at this address.
    alert_email_to: str | None = None
    alert_email_from: str = "liftoff@localhost"
    alert_webhook_url: SecretStr | None = None
    alert_late_after_minutes: float = Field(360.0, gt=0)
    # Off for `airflow dags test` (what `liftoff run` uses): Airflow 3.3's `dags test` fails to
    # finish a run of a DAG with a deadline (DagRun.update_state reads it by a wrong key).
    alert_deadlines: bool = True
    # Off for `airflow dags test` too (`liftoff run`): nobody is there to answer an approval, so a
    # quiet day fails at once saying how to accept it (liftoff.operators.low_volume).
    approvals: bool = True
    runbook_url: str = "docs/runbook.md"

    @model_validator(mode="after")
    def _warehouse_from_the_original_variables(self) -> Settings:
        if self.warehouse_url is None and self.db_host_prod and self.db_user_prod and self.db_pass_prod:
            password = quote(self.db_pass_prod.get_secret_value(), safe="")
            self.warehouse_url = SecretStr(
                f"postgresql://{quote(self.db_user_prod, safe='')}:{password}"
                f"@{self.db_host_prod}:{self.db_port_prod}/{self.db_name_prod}"
            )
        return self


DEFAULT_MAX_RECORDS = 2_000_000  # a stream's records in one sync, unless its entry says otherwise


class StreamConfig(BaseModel):
    """One stream of a source: how it syncs, its contract, cursor and reject threshold.

    ``incremental``: a run's batch is the rows whose cursor falls in its interval.
    ``full_refresh`` (reference data): each run lands a whole snapshot, which is its batch.
    """

    model_config = ConfigDict(extra="forbid")

    sync: Literal["incremental", "full_refresh"] = "incremental"
    contract: str
    cursor_field: str | None = None
    primary_key: str
    max_reject_ratio: float = Field(0.05, ge=0.0, le=1.0)
    # A day that lands fewer rows than this share of the median of its recent days waits for
    # a person before silver (a broken upstream looks like a quiet day); unset: not checked.
    min_volume_ratio: float | None = Field(None, gt=0.0, le=1.0)
    # The most records one sync of the stream may read (the local connector runner): an API
    # that pages without end fails the sync in one line, not retried, instead of streaming
    # for the whole timeout. Raise it for a stream whose day really holds more.
    max_records: int = Field(DEFAULT_MAX_RECORDS, ge=1)

    @model_validator(mode="after")
    def _incremental_needs_a_cursor(self) -> StreamConfig:
        if self.sync == "incremental" and not self.cursor_field:
            raise ValueError("an incremental stream needs a cursor_field")
        return self


class SourceRuntimeConfig(BaseModel):
    """Connector config: names of environment variables, never the secrets themselves."""

    model_config = ConfigDict(extra="forbid")

    base_url_env: str
    base_path: str = ""  # appended to the URL: the demo serves the shop under /shop of its one server
    api_key_env: str | None = None
    api_key_required: bool = False  # the source refuses requests without its key: fail before syncing
    page_size: int | None = Field(None, ge=1, le=1000)  # records per page; the connector's default if unset

    @model_validator(mode="after")
    def _required_key_has_a_variable(self) -> SourceRuntimeConfig:
        if self.api_key_required and not self.api_key_env:
            raise ValueError("api_key_required needs api_key_env: secrets never live in this file")
        return self


class ConnectionSecret(BaseModel):
    """A secret kept in an Airflow connection (its metadata database, a secrets backend or an
    ``AIRFLOW_CONN_<ID>`` variable): ``field`` is ``password`` (the default), ``login``,
    ``host``, ``schema``, or a key of its extras."""

    model_config = ConfigDict(extra="forbid")

    connection: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    field: str = Field(default="password", pattern=r"^[A-Za-z0-9_.-]+$")


class ConnectorConfig(BaseModel):
    """A connector from Airbyte's catalog, by its PyPI package, and its config without secrets.

    ``secrets``: each field of the config the connector's spec marks ``airbyte_secret`` (a
    dotted path) and where its value is kept: the name of an environment variable, or an
    Airflow connection (:class:`ConnectionSecret`). ``start_date_key``: the config field a run
    sets to its interval's start (rerun and backfill read from their day), written with
    ``start_date_format`` (``strftime``'s; ``liftoff sources add`` picks the one the
    connector's spec accepts: Shopify's is a date).
    """

    model_config = ConfigDict(extra="forbid")

    package: str
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str | ConnectionSecret] = Field(default_factory=dict)
    start_date_key: str | None = None
    start_date_format: str = "%Y-%m-%dT%H:%M:%SZ"

    @field_validator("package")
    @classmethod
    def _pinned(cls, value: str) -> str:
        from liftoff.ingest.connectors import ConnectorPackage

        try:
            return str(ConnectorPackage.parse(value))
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("secrets")
    @classmethod
    def _variables(cls, value: dict[str, str | ConnectionSecret]) -> dict[str, str | ConnectionSecret]:
        for path, variable in value.items():
            if isinstance(variable, str) and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
                raise ValueError(f"secrets.{path}: {variable!r} is no environment variable's name")
        return value


class AirbyteServerConfig(BaseModel):
    """Server mode: the Airflow connection to the Airbyte server and the Airbyte connection to sync."""

    model_config = ConfigDict(extra="forbid")

    conn_id: str = "airbyte"
    connection_id: str | None = None
    connection_id_env: str | None = None  # per environment: the id differs between deployments
    timeout_seconds: int = Field(3600, gt=0)

    @model_validator(mode="after")
    def _one_connection_id(self) -> AirbyteServerConfig:
        if (self.connection_id is None) == (self.connection_id_env is None):
            raise ValueError("give exactly one of connection_id and connection_id_env")
        return self


class KafkaTopicConfig(BaseModel):
    """A stream source's topic and the Airflow connection to its Kafka (provider ``apache.kafka``)."""

    model_config = ConfigDict(extra="forbid")

    conn_id: str = "kafka"
    topic: str = Field(min_length=1)


class FreshnessConfig(BaseModel):
    """How old a source's data may be, in hours: from the newest cursor its accepted rows
    hold to the end of the run's interval (``liftoff.validate.freshness``). Over
    ``warn_after`` the run logs a warning; over ``error_after`` it stops before silver.
    Either may be omitted."""

    model_config = ConfigDict(extra="forbid")

    warn_after: float | None = Field(None, gt=0, allow_inf_nan=False)
    error_after: float | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> FreshnessConfig:
        if self.warn_after is None and self.error_after is None:
            raise ValueError("give warn_after, error_after or both (hours), or leave out `freshness:`")
        if None not in (self.warn_after, self.error_after) and self.warn_after > self.error_after:
            raise ValueError(
                f"warn_after ({self.warn_after:g} h) is over error_after ({self.error_after:g} h):"
                " a stream warns before it errors"
            )
        return self


IngestMode = Literal["local", "airbyte", "push", "stream"]


class SourceConfig(BaseModel):
    """One source: how it is ingested and the streams it lands in ``raw_<name>``.

    ``push``: nothing is synced; an application (the entry app) writes the rows straight
    into the landing tables, which the bootstrap creates from the streams' contracts.
    ``stream``: a run lands the messages its Kafka topic received in the run's interval
    (``liftoff.stream.landing``); the source has one stream, the topic's.
    """

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    mode: IngestMode | None = None  # None: the deployment's LIFTOFF_INGEST_MODE
    manifest: str | None = None
    config: SourceRuntimeConfig | None = None
    connector: ConnectorConfig | None = None  # a PyPI connector instead of a manifest
    airbyte: AirbyteServerConfig | None = None
    kafka: KafkaTopicConfig | None = None
    # Checked after each run's validation on the incremental streams with a cursor; unset:
    # not checked (a pushed or streamed source's quiet day, a closed shop's, may be normal).
    freshness: FreshnessConfig | None = None
    streams: dict[str, StreamConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _freshness_has_a_cursor(self) -> SourceConfig:
        if self.freshness is not None and not self.fresh_streams():
            raise ValueError(
                "freshness is measured on incremental streams with a cursor_field: this source has none"
            )
        return self

    @model_validator(mode="after")
    def _each_mode_has_its_connector(self) -> SourceConfig:
        if self.mode == "stream":
            if self.kafka is None or len(self.streams) != 1:
                raise ValueError("a stream source needs a `kafka:` block (its topic) and exactly one stream")
            if any(stream.sync != "incremental" for stream in self.streams.values()):
                raise ValueError("a stream source's stream is incremental (a topic has no snapshot)")
        elif (
            self.mode != "push" and self.connector is None and (self.manifest is None or self.config is None)
        ):
            raise ValueError(
                "a synced source needs `connector` (a PyPI connector) or `manifest` and `config`"
                " (or `mode: push` or `stream`)"
            )
        if self.connector is not None and (self.manifest is not None or self.config is not None):
            raise ValueError("give `connector` or `manifest` and `config`, not both")
        return self

    @property
    def kind(self) -> str:
        """How the source's rows arrive: connector, manifest, push or stream."""
        if self.mode in ("push", "stream"):
            return self.mode
        return "connector" if self.connector is not None else "manifest"

    @property
    def is_pushed(self) -> bool:
        return self.mode == "push"

    @property
    def is_streamed(self) -> bool:
        return self.mode == "stream"

    def fresh_streams(self) -> list[str]:
        """The streams freshness is measured on: incremental, with a cursor (a snapshot has none)."""
        return [
            name
            for name, stream in self.streams.items()
            if stream.sync == "incremental" and stream.cursor_field is not None
        ]

    def freshness_of(self, stream: str) -> FreshnessConfig | None:
        """The thresholds the stream is checked against, or None when it is not checked."""
        return self.freshness if stream in self.fresh_streams() else None

    def ingest_mode(self, name: str) -> IngestMode:
        mode = self.mode or get_settings().ingest_mode
        if mode == "airbyte" and self.airbyte is None:
            raise ConfigError(
                f"source {name} runs in airbyte mode but has no `airbyte:` block in sources.yaml"
            )
        return mode

    @field_validator("manifest")
    @classmethod
    def _manifest_exists(cls, value: str | None) -> str | None:
        if value is not None and not (INCLUDE_DIR / value).is_file():
            raise ValueError(f"manifest include/{value} does not exist")
        return value

    @property
    def manifest_path(self) -> Path:
        return INCLUDE_DIR / self.manifest


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceConfig] = Field(min_length=1)


@lru_cache
def dbt_var(name: str) -> object:
    """A var of the dbt project (include/dbt/dbt_project.yml): the one place it is set."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return project["vars"][name]


def redacted_url(url: str) -> str:
    """``url`` with its password (and a lone user, which may be a key) shown as ``***``."""
    parts = urlsplit(url)
    if not parts.username and not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]  # as written: a port that is not a number too
    auth = f"{parts.username}:***" if parts.password else "***"
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


# A URL scheme is short (RFC 3986 allows any length; none in use is over 32): bounded, the
# search is linear in the text (unbounded, `a.a.a.…` took seconds: quadratic).
_CREDENTIALS = re.compile(r"([a-zA-Z][\w+.-]{0,31}://)[^\s/@]+@")  # no \b: `x_postgresql://` too


def first_line(error: object) -> str:
    """An error as one line: its first, cut to 300 characters, any URL's credentials as ***."""
    lines = str(error).strip().splitlines()
    text = _CREDENTIALS.sub(r"\1***@", lines[0]) if lines else ""  # before the cut: a cut URL hides nothing
    return text[:300] if text else type(error).__name__


def landing_schema(source: str) -> str:
    """The warehouse schema a source lands in (Airbyte's raw layout)."""
    return f"raw_{source}"


@lru_cache
def get_settings() -> Settings:
    env_file = os.environ.get("LIFTOFF_ENV_FILE", str(PROJECT_ROOT / ".env"))
    return Settings(_env_file=env_file or None)


def read_yaml(text: str) -> Any:
    """``yaml.safe_load`` by libyaml (in PyYAML's wheels): every task reads sources.yaml as it
    parses its DAG file, 0.4 ms of CPU where the pure-Python loader takes 4. Bad YAML is read
    again by the pure loader, whose error shows the line and where in it."""
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return yaml.safe_load(text)


def load_sources(path: Path | None = None) -> dict[str, SourceConfig]:
    """Read and validate include/sources.yaml; raise ConfigError with the first problem."""
    path = path or get_settings().sources_file
    try:
        raw = read_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc}") from exc
    try:
        return SourcesFile.model_validate(raw).sources
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path.name}: {where}: {first['msg']}") from exc


def active_sources(settings: Settings | None = None) -> dict[str, SourceConfig]:
    """The sources this deployment runs: all of sources.yaml but ``LIFTOFF_SKIP_SOURCES``."""
    settings = settings or get_settings()
    configured = load_sources(settings.sources_file)
    skipped = skipped_sources(settings)
    if unknown := skipped - set(configured):
        names = ", ".join(sorted(unknown))
        raise ConfigError(f"LIFTOFF_SKIP_SOURCES names no source of sources.yaml: {names}")
    return {name: source for name, source in configured.items() if name not in skipped}


def streamed_sources(settings: Settings | None = None) -> dict[str, SourceConfig]:
    """The active sources whose rows a Kafka topic brings (``mode: stream``)."""
    return {name: source for name, source in active_sources(settings).items() if source.is_streamed}


def skipped_sources(settings: Settings | None = None) -> set[str]:
    settings = settings or get_settings()
    return {name.strip() for name in settings.skip_sources.split(",") if name.strip()}


def disable_telemetry() -> None:
    """Set the telemetry opt-outs in this process (and so in its children)."""
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
