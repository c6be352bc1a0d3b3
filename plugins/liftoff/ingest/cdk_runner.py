"""Run a declarative Airbyte connector with the Airbyte CDK and COPY its records into PostgreSQL.

This file runs inside the connector's own virtualenv (``.venv-airbyte``), whose pins clash
with Airflow's, so it imports nothing from ``liftoff``: only the standard library, the
Airbyte CDK, PyYAML and psycopg. It reads one JSON request on stdin and prints one JSON
result line:

    request: {"name", "manifest", "config", "streams": [...],
              "postgres": {host, port, database, username, password, schema}}
    result:  {"ok": true, "records": {stream: N}}  or  {"ok": false, "error": "..."}

The manifest runs as the Airbyte server runs it (``ConcurrentDeclarativeSource``: its
pagination, retries, error handlers and transformations); the request's config carries the
sync window, and every stream is read in full-refresh mode over that window. Records go
straight to PostgreSQL with COPY, in Airbyte's raw layout (each declared property a column,
objects and arrays as JSON, then ``_airbyte_raw_id``, ``_airbyte_extracted_at`` in UTC and
``_airbyte_meta``), into the request's schema: a staging schema of this run's own, from
which the caller promotes the rows once the whole read succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

FLUSH_ROWS = 5_000  # rows a stream buffers before a COPY
AIRBYTE_COLUMNS = {
    "_airbyte_raw_id": "varchar",
    "_airbyte_extracted_at": "timestamp",  # UTC, no zone, as Airbyte writes it
    "_airbyte_meta": "json",
}
NO_META = "{}"


class SyncFailed(RuntimeError):
    """The connector reported an error (a TRACE error or an ERROR log): the first one, in one line."""


def column_name(name: str) -> str:
    """Airbyte's destinations' names: lower case, anything but letters, digits and _ as _."""
    return re.sub(r"[^a-z0-9_]", "_", name.lower())


def column_type(definition: dict) -> str:
    """The SQL type Airbyte's PostgreSQL destinations give a JSON schema property."""
    kind = definition.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    fmt = definition.get("format")
    if kind == "string":
        return {"date": "date", "date-time": "timestamptz", "time": "time"}.get(fmt, "varchar")
    return {
        "integer": "bigint",
        "number": "numeric(38, 9)",
        "boolean": "boolean",
        "object": "json",
        "array": "json",
    }.get(kind, "json")


def text_of(value, json_column: bool) -> str | None:
    """A record's value as COPY text for its column."""
    if value is None:
        return None
    if isinstance(value, str) and not json_column:
        return value
    return json.dumps(value)


class StreamWriter:
    """One stream's staging table, filled by COPY in batches."""

    def __init__(self, conn, schema: str, stream: str, json_schema: dict) -> None:
        from psycopg import sql

        properties = json_schema.get("properties") or {}
        self.fields = list(properties)
        types = {column_name(f): column_type(properties[f]) for f in self.fields}
        self.json_fields = [types[column_name(f)] == "json" for f in self.fields]
        columns = {**types, **AIRBYTE_COLUMNS}
        self.conn = conn
        self.table = sql.Identifier(schema, stream)
        conn.execute(
            sql.SQL("create table {} ({})").format(
                self.table,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()
                ),
            )
        )
        self.copy_sql = sql.SQL("copy {} ({}) from stdin").format(
            self.table, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        self.rows: list[tuple] = []
        self.count = 0
        # Ids unique across runs without a random draw per record (os.urandom is slow on VMs):
        # this run's random 80 bits, then the record's number.
        self.id_prefix = uuid.uuid4().hex[:20]
        self.extracted: tuple[int, str] = (-1, "")

    def raw_id(self) -> str:
        n = f"{self.id_prefix}{self.count + len(self.rows):012x}"
        return f"{n[:8]}-{n[8:12]}-{n[12:16]}-{n[16:20]}-{n[20:]}"

    def add(self, data: dict, emitted_at_ms: int) -> None:
        if self.extracted[0] != emitted_at_ms:  # records of one page share their time
            at = datetime.fromtimestamp(emitted_at_ms / 1000, UTC).replace(tzinfo=None).isoformat()
            self.extracted = (emitted_at_ms, at)
        values = [text_of(data.get(f), j) for f, j in zip(self.fields, self.json_fields, strict=True)]
        self.rows.append((*values, self.raw_id(), self.extracted[1], NO_META))
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        with self.conn.cursor().copy(self.copy_sql) as copy:
            for row in self.rows:
                copy.write_row(row)
        self.count += len(self.rows)
        self.rows = []


def catalog_of(manifest: dict, config: dict, streams: list[str], logger) -> tuple[object, dict[str, dict]]:
    """The configured catalog of ``streams`` (full refresh, append) and each stream's JSON schema."""
    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    source = ConcurrentDeclarativeSource(config=config, source_config=manifest)
    discovered = {s.name: s for s in source.discover(logger, config).streams}
    missing = [s for s in streams if s not in discovered]
    if missing:
        raise SyncFailed(f"the manifest has no stream {', '.join(missing)}")
    catalog = ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {
                        "name": name,
                        "json_schema": discovered[name].json_schema,
                        "supported_sync_modes": ["full_refresh"],
                    },
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "append",
                }
                for name in streams
            ]
        }
    )
    return catalog, {name: discovered[name].json_schema for name in streams}


def read(request: dict, logger) -> tuple[dict[str, dict], Iterator]:
    """The request's streams' JSON schemas, and the messages the CDK reads (lazily)."""
    import yaml
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    manifest = yaml.safe_load(Path(request["manifest"]).read_text())
    config = request["config"]
    catalog, schemas = catalog_of(manifest, config, list(request["streams"]), logger)
    source = ConcurrentDeclarativeSource(catalog=catalog, config=config, source_config=manifest)
    return schemas, source.read(logger, config, catalog, None)


def run(request: dict) -> dict:
    import psycopg
    from airbyte_cdk.models import Level, TraceType, Type
    from psycopg import sql

    logger = logging.getLogger(f"airbyte.{request['name']}")
    streams = list(request["streams"])
    schemas, messages = read(request, logger)
    pg = request["postgres"]
    with psycopg.connect(
        host=pg["host"],
        port=int(pg["port"]),
        dbname=pg["database"],
        user=pg["username"],
        password=pg.get("password") or None,
    ) as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(pg["schema"])))
        writers = {name: StreamWriter(conn, pg["schema"], name, schemas[name]) for name in streams}
        errors: list[str] = []
        try:
            for message in messages:
                if message.type == Type.RECORD:
                    writers[message.record.stream].add(message.record.data, message.record.emitted_at)
                elif message.type == Type.TRACE and message.trace.type == TraceType.ERROR:
                    errors.append(trace_line(message.trace.error))
                elif message.type == Type.LOG and message.log.level in (Level.ERROR, Level.FATAL):
                    errors.append(message.log.message)
        except Exception as exc:  # the CDK raises at the end what its messages said first
            if errors:
                raise SyncFailed(errors[0]) from exc
            raise
        if errors:
            raise SyncFailed(errors[0])
        for writer in writers.values():
            writer.flush()
        conn.commit()
    return {"ok": True, "records": {name: writer.count for name, writer in writers.items()}}


def trace_line(error) -> str:
    """The manifest's message for the failure, and what the API answered when it says."""
    message = error.message or error.internal_message or "the connector failed"
    said = error.internal_message or ""
    answered = re.search(r"status code '(\d+)' and error message: '([^']{0,200})", said)
    return message + (f" [HTTP {answered[1]}: {answered[2]}]" if answered else "")


def one_line(exc: BaseException) -> str:
    message = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return message if len(message) <= 500 else message[:497] + "..."


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        request = json.loads(sys.stdin.read())
        print(json.dumps(run(request)))
        return 0
    except Exception as exc:  # one line for the caller; the traceback goes to stderr
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"ok": False, "error": one_line(exc)}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
