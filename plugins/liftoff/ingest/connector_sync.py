"""One sync of a PyPI connector source for one interval: its config, catalog, STATE and schema changes.

What a run reads (docs/ingestion.md):

- a stream synced ``incremental`` with the entry's ``start_date_key``: the connector's start
  date is the interval's start, no state: the first run, a rerun and a backfill of a day all
  read from that day on;
- an ``incremental`` stream without it: the connector's STATE saved by the latest committed
  run of an earlier interval (``audit.connector_state``), none on the first run;
- a ``full_refresh`` stream: everything, the snapshot that replaces the landed one.

An incremental stream's read may reach past the interval (to now): its staged rows are merged
into landing by primary key and cursor (``promote(merge_key=...)``), never duplicated, and the
run's batch is, as for every source, the landed rows whose cursor falls in its interval. The
STATE the read ended with is saved in the transaction that promotes the rows, so it never gets
ahead of landing.

Schema changes: before the read, the discovered schema is compared with the landing table
and the contract. A new field lands as a new column; a retyped one lands null with its reason
in ``_airbyte_meta`` (the gate quarantines the row when its contract needs the field); a
removed one is missing from the new rows. Each change is logged and recorded once in
``audit.schema_changes`` (``liftoff sources changes``).
"""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from liftoff.batch import Interval
from liftoff.config import ConfigError, Settings, SourceConfig, landing_schema
from liftoff.ingest import secrets
from liftoff.ingest.cdk_runner import StreamWriter, column_name, column_type, type_name
from liftoff.ingest.connectors import ConnectorPackage, require_installed
from liftoff.ingest.landing_layout import BOOKKEEPING_COLUMNS
from liftoff.ingest.protocol import Connector, Masker, set_path
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import contract_columns, get_contract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchemaChange:
    stream: str
    field: str
    change: str  # added, removed, retyped
    old_type: str | None = None
    new_type: str | None = None

    def describe(self) -> str:
        if self.change == "retyped":
            return f"{self.stream}.{self.field} retyped: {self.old_type} -> {self.new_type}"
        if self.change == "added":
            return f"{self.stream}.{self.field} added ({self.new_type})"
        return f"{self.stream}.{self.field} removed (was {self.old_type or 'in the contract'})"


def runtime_config(
    name: str, source: SourceConfig, interval: Interval | None, env: dict[str, str] | None = None
) -> dict:
    """The connector's config: the entry's, its secrets from where they are kept (an
    environment variable, an Airflow connection: ``liftoff.ingest.secrets``) and, with
    ``start_date_key``, the interval's start."""
    env = os.environ if env is None else env
    entry = source.connector
    config = copy.deepcopy(entry.config)
    found = secrets.resolve_all(entry.secrets, lambda path: f"the {path} of source {name} (a secret)", env)
    for path, value in found.items():
        set_path(config, path, value)
    if entry.start_date_key and interval is not None:
        set_path(config, entry.start_date_key, interval.start.strftime(entry.start_date_format))
    return config


def connector_of(name: str, source: SourceConfig, settings: Settings, config: dict) -> Connector:
    package = ConnectorPackage.parse(source.connector.package)
    return Connector(
        require_installed(package, settings, name),
        f"{package} (source {name})",
        Masker.of(config, list(source.connector.secrets)),
    )


def checked_catalog(
    name: str, source: SourceConfig, settings: Settings, interval: Interval | None
) -> tuple[Connector, dict, dict[str, dict], dict]:
    """The connector with its config, after its ``check`` (as Airbyte does before a sync: bad
    credentials fail at once, in one line), its discovered streams and the entry's catalog
    (a stream gone, a sync mode or field it lacks: one line)."""
    config = runtime_config(name, source, interval)
    connector = connector_of(name, source, settings, config)
    connector.check(config)
    discovered = connector.discover(config)
    return connector, config, discovered, configured_catalog(name, source, discovered)


def _field_of(stream: dict, column: str) -> str:
    """The connector's property whose landing column is ``column``."""
    for prop in (stream.get("json_schema") or {}).get("properties") or {}:
        if column_name(prop) == column:
            return prop
    raise ConfigError(
        f"stream {stream['name']} has no field {column} (its fields: see `liftoff sources check`)"
    )


def configured_catalog(name: str, source: SourceConfig, discovered: dict[str, dict]) -> dict:
    """The catalog of the entry's streams, each in its sync mode, cursor and primary key."""
    streams = []
    for stream_name, config in source.streams.items():
        stream = discovered.get(stream_name)
        if stream is None:
            known = ", ".join(sorted(discovered)) or "none"
            raise ConfigError(f"the connector of source {name} has no stream {stream_name} (it has: {known})")
        entry = {
            "stream": stream,
            "sync_mode": "full_refresh",
            "destination_sync_mode": "append",
            "primary_key": [[_field_of(stream, config.primary_key)]],
        }
        if config.sync == "incremental":
            if "incremental" not in (stream.get("supported_sync_modes") or []):
                raise ConfigError(
                    f"stream {stream_name} of source {name} cannot sync incrementally:"
                    " set `sync: full_refresh`"
                )
            entry["sync_mode"] = "incremental"
            entry["cursor_field"] = (
                stream.get("default_cursor_field")
                if stream.get("source_defined_cursor") and stream.get("default_cursor_field")
                else [_field_of(stream, config.cursor_field)]
            )
        streams.append(entry)
    return {"streams": streams}


def schema_changes(
    stream: str, json_schema: dict, landed: dict[str, str], contract_fields: dict[str, bool]
) -> list[SchemaChange]:
    """What changed between the landing table (and the contract) and the discovered schema.

    ``landed``: the landing table's data columns and types (empty before the first sync);
    ``contract_fields``: the contract's fields, True when required.
    """
    properties = json_schema.get("properties") or {}
    discovered = {column_name(prop): column_type(definition) for prop, definition in properties.items()}
    changes = []
    if landed:
        for column, new_type in discovered.items():
            old = landed.get(column)
            if old is None:
                changes.append(SchemaChange(stream, column, "added", new_type=new_type))
            elif type_name(old) != new_type:
                changes.append(SchemaChange(stream, column, "retyped", old, new_type))
    for column, old in landed.items():
        if column not in discovered:
            changes.append(SchemaChange(stream, column, "removed", old_type=old))
    for column, required in contract_fields.items():
        if required and column not in discovered and column not in landed:
            changes.append(SchemaChange(stream, column, "removed"))
    return changes


def record_changes(
    conn: psycopg.Connection, source: str, interval: Interval, changes: list[SchemaChange]
) -> list[SchemaChange]:
    """Record each change once; log the new ones and return them."""
    new = []
    for change in changes:
        found = conn.execute(
            "insert into audit.schema_changes"
            " (source, stream, field, change, old_type, new_type, interval_start)"
            " values (%s, %s, %s, %s, %s, %s, %s) on conflict do nothing returning 1",
            (
                source,
                change.stream,
                change.field,
                change.change,
                change.old_type,
                change.new_type,
                interval.start,
            ),
        ).fetchone()
        if found:
            new.append(change)
            log.warning("schema change in source %s: %s; %s", source, change.describe(), consequence(change))
    return new


def consequence(change: SchemaChange) -> str:
    if change.change == "added":
        return "landed as a new column of the landing table (the contract ignores it until it names it)"
    if change.change == "retyped":
        return (
            "its values land null with the reason in _airbyte_meta;"
            " rows whose contract needs it are quarantined"
        )
    return "new rows lack it; rows whose contract needs it are quarantined"


def saved_state(conn: psycopg.Connection, source: str, interval: Interval) -> list | None:
    """The STATE saved by the latest committed run of an interval before ``interval``."""
    row = conn.execute(
        "select state from audit.connector_state where source = %s and interval_start < %s"
        " order by interval_start desc limit 1",
        (source, interval.start),
    ).fetchone()
    return row[0] if row else None


@dataclass
class StateKeeper:
    """The latest STATE message of each stream (and the global one) a read gave."""

    streams: dict[str, dict] = field(default_factory=dict)
    shared: dict | None = None
    legacy: dict | None = None

    def add(self, state: dict) -> None:
        kind = state.get("type") or "LEGACY"
        kept = {k: v for k, v in state.items() if k not in ("sourceStats", "destinationStats")}
        if kind == "STREAM":
            descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
            self.streams[f"{descriptor.get('namespace') or ''}.{descriptor.get('name')}"] = kept
        elif kind == "GLOBAL":
            self.shared = kept
        else:
            self.legacy = kept

    def messages(self) -> list | None:
        """The state as ``read --state`` takes it, or None when the read gave none."""
        if self.shared is not None:
            return [self.shared]
        if self.streams:
            return list(self.streams.values())
        return [self.legacy] if self.legacy is not None else None


@dataclass
class ConnectorRun:
    """One sync of a PyPI connector source (see the module's docstring)."""

    name: str
    source: SourceConfig
    interval: Interval
    settings: Settings
    timeout_seconds: int
    state: StateKeeper = field(default_factory=StateKeeper)
    changes: list[SchemaChange] = field(default_factory=list)

    def run(self, target: Warehouse, staging: str, guard: psycopg.Connection):
        from liftoff.ingest.local import RunnerOutcome, column_types

        connector, config, discovered, catalog = checked_catalog(
            self.name, self.source, self.settings, self.interval
        )
        incremental = any(s.sync == "incremental" for s in self.source.streams.values())
        state = (
            saved_state(guard, self.name, self.interval)
            if incremental and not self.source.connector.start_date_key
            else None
        )
        with target.connect() as conn:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(staging)))
            writers = {}
            for stream_name, config_ in self.source.streams.items():
                json_schema = discovered[stream_name].get("json_schema") or {}
                landed = {
                    column: type_
                    for column, type_ in column_types(conn, landing_schema(self.name), stream_name).items()
                    if column not in BOOKKEEPING_COLUMNS
                }
                contract = get_contract(config_.contract)
                required = {column: info.is_required() for column, info in contract_columns(contract).items()}
                self.changes += schema_changes(stream_name, json_schema, landed, required)
                writers[stream_name] = StreamWriter(
                    conn, staging, stream_name, json_schema, config_.max_records, landed_types=landed
                )
            for message in connector.read(config, catalog, state, timeout_seconds=self.timeout_seconds):
                if message["type"] == "RECORD":
                    record = message["record"]
                    writer = writers.get(record.get("stream"))
                    if writer is not None:
                        writer.add(record.get("data") or {}, int(record.get("emitted_at") or 0))
                else:
                    self.state.add(message.get("state") or {})
            for writer in writers.values():
                writer.flush()
            conn.commit()
        return RunnerOutcome(
            {name: writer.count for name, writer in writers.items()},
            {name: writer.nulled for name, writer in writers.items() if writer.nulled},
        )

    def merge_key(self, stream: str) -> str | None:
        config = self.source.streams[stream]
        return config.primary_key if config.sync == "incremental" else None

    def committing(self, conn: psycopg.Connection) -> None:
        """In the promote's transaction: the read's STATE and the schema changes."""
        record_changes(conn, self.name, self.interval, self.changes)
        messages = self.state.messages()
        if messages is not None:
            conn.execute(
                "insert into audit.connector_state (source, interval_start, state) values (%s, %s, %s)"
                " on conflict (source, interval_start)"
                " do update set state = excluded.state, saved_at = now()",
                (self.name, self.interval.start, Jsonb(messages)),
            )

    def committed(self, guard: psycopg.Connection) -> None:
        """After the promote: the source's schema changes not alerted yet (this sync's, and
        any a killed run recorded but never sent), in one alert, then marked alerted. On the
        run's ``guard`` session (autocommit: each statement its own transaction; the marking
        matches on the rows read, and an alert not delivered marks none)."""
        rows = guard.execute(
            "select stream, field, change, old_type, new_type from audit.schema_changes"
            " where source = %s and alerted_at is null order by detected_at, stream, field",
            (self.name,),
        ).fetchall()
        if not rows:
            return
        from liftoff.notifiers.alerts import deliver, schema_changed_alert

        changes = [SchemaChange(*row) for row in rows]
        lines = [f"{change.describe()}: {consequence(change)}" for change in changes]
        deliver(schema_changed_alert(self.name, self.interval.day.isoformat(), lines))
        guard.execute(  # by the key of schema_changes_once
            "update audit.schema_changes set alerted_at = now() where source = %s and alerted_at is null"
            " and (stream, field, change, coalesce(new_type, ''))"
            " in (select * from unnest(%s::text[], %s::text[], %s::text[], %s::text[]))",
            (
                self.name,
                [c.stream for c in changes],
                [c.field for c in changes],
                [c.change for c in changes],
                [c.new_type or "" for c in changes],
            ),
        )
