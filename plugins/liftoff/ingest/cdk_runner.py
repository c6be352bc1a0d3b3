"""Run a declarative Airbyte connector with the Airbyte CDK and COPY its records into PostgreSQL.

This file runs inside the connector's own virtualenv (``.venv-airbyte``), whose pins clash
with Airflow's, so it imports nothing from ``liftoff``: only the standard library, the
Airbyte CDK, PyYAML and psycopg. It reads one JSON request on stdin and prints one JSON
result line:

    request: {"name", "manifest", "config", "streams": [...], "max_records": {stream: N},
              "postgres": {host, port, database, username, password, schema}}
    result:  {"ok": true, "records": {stream: N}, "nulled": {stream: N}}
             or  {"ok": false, "error": "...", "permanent": bool}

The manifest runs as the Airbyte server runs it (``ConcurrentDeclarativeSource``: its
pagination, retries, error handlers and transformations); the request's config carries the
sync window, and every stream is read in full-refresh mode over that window. Three fast
paths land the same rows in about half the time: the writer adds ``_record`` instead of the
manifest's ``AddFields`` (:func:`take_whole_record`), the cursors keep no state the runner
would drop (:func:`skip_cursor_state`), and a page's records are found by indexing
(:func:`direct_field_paths`); ``tests/integration/test_runner_fast_paths.py`` checks them. Records go
straight to PostgreSQL with COPY, in Airbyte's raw layout (each declared property a column,
objects and arrays as JSON, then ``_airbyte_raw_id``, ``_airbyte_extracted_at`` in UTC and
``_airbyte_meta``), into the request's schema: a staging schema of this run's own, from
which the caller promotes the rows once the whole read succeeded.

A value PostgreSQL cannot store or the contract gate cannot read (a NUL character, in a
string, a nested value or a key; a lone UTF-16 surrogate; NaN or Infinity; nesting deeper
than ``MAX_DEPTH``; over ``MAX_VALUE_CHARS``) never fails the COPY: the record lands with
that field null and the reason in ``_airbyte_meta`` (``changes``, as the Kafka landing
records a malformed message), so the gate quarantines the row and the rest of the day lands.
The clean path costs a substring test per value; only a hit looks deeper.

Pagination is bounded: a stream reads at most its ``max_records`` in one sync, and a
paginator that hands out a next-page token it already gave in the same read (an API
repeating its cursor) stops the sync; both fail in one line marked ``permanent`` (a retry
would only loop again).
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

try:
    from liftoff.ingest.landing_layout import AIRBYTE_COLUMNS, CLEAN_META, WHOLE_RECORD, nulled, nulled_meta
except ImportError:  # run by the connector's own interpreter: this script's folder is on sys.path
    from landing_layout import AIRBYTE_COLUMNS, CLEAN_META, WHOLE_RECORD, nulled, nulled_meta

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

FLUSH_ROWS = 5_000  # rows a stream buffers before a COPY
MAX_VALUE_CHARS = 16 * 1024 * 1024  # one value's text; a bigger one lands null, with its reason
MAX_DEPTH = 64  # nesting levels of a JSON value; the gate's JSON parser stops at 200 for the row


class SyncFailed(RuntimeError):
    """The connector reported an error (a TRACE error or an ERROR log): the first one, in one line."""

    permanent = False


class SyncBounded(SyncFailed):
    """The API pages without end (a stream over its ``max_records``, a repeated cursor):
    retrying reads the same loop again, so the caller fails at once."""

    permanent = True


PERMANENT_ERRORS: list[str] = []  # raised in the CDK's threads, reported through its TRACE messages


_ENCODE = json.JSONEncoder(allow_nan=False).encode  # json.dumps' text, but NaN is an error


def _unencodable(text: str) -> bool:
    """A lone surrogate (JSON's ``"\\ud800"`` parses to one): no UTF-8 for it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (\\u0000), which PostgreSQL text cannot store"
    if not text.isascii() and _unencodable(text):
        return "holds a lone UTF-16 surrogate, which is no UTF-8 character"
    return None


def _json_problem(value) -> str | None:
    """Why a JSON value cannot land, looked at in depth (only after a cheap test hit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            for key, inner in item.items():
                problem = _string_problem(key) if isinstance(key, str) else None
                if problem:
                    return f"a key {problem}"
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str) and (problem := _string_problem(item)):
            return problem
    return None


# A value of the wrong kind for its typed column (an upstream field retyped: a number that
# became text) would fail the COPY: it lands null, with the reason, instead.
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?( ?(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?"
)
_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?( ?(Z|[+-]\d{2}(:?\d{2})?))?")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLEAN = {"true", "false", "t", "f", "yes", "no", "1", "0"}


def _kind_problem(value, kind: str) -> str | None:
    """Why ``value`` is no value of a column of ``kind`` (a SQL type), or None."""
    if kind == "bigint":
        if type(value) is int:
            return None if -(2**63) <= value < 2**63 else "an integer out of range"
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return None
    elif kind.startswith("numeric"):
        if type(value) is int or (type(value) is float and value == value and abs(value) != float("inf")):
            return None
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            return None
    elif kind == "boolean":
        if type(value) is bool or (isinstance(value, str) and value.strip().lower() in _BOOLEAN):
            return None
    elif kind in ("timestamptz", "timestamp", "date"):
        if isinstance(value, str) and _TIME.fullmatch(value.strip()):
            return None
    elif kind == "time":
        if isinstance(value, str) and _CLOCK.fullmatch(value.strip()):
            return None
    else:
        return None
    shown = json.dumps(value, default=str)[:40] if not isinstance(value, str) else repr(value[:40])
    return f"{shown} is no {kind} value (the field's type changed upstream?)"


def cell(value, json_column: bool, kind: str | None = None) -> tuple[str | None, str | None]:
    """A record's value as COPY text for its column, or None and why it cannot land.

    The clean path is one encode (JSON columns, non-string values) and substring tests;
    ``kind``: a typed column's SQL type, whose values are checked (a retyped field).
    """
    if value is None:
        return None, None
    if kind is not None and (problem := _kind_problem(value, kind)) is not None:
        return None, problem
    if isinstance(value, str) and not json_column:
        if "\x00" in value or len(value) > MAX_VALUE_CHARS or (not value.isascii() and _unencodable(value)):
            if len(value) > MAX_VALUE_CHARS:
                return None, f"longer than {MAX_VALUE_CHARS} characters"
            return None, _string_problem(value)
        return value, None
    try:
        text = _ENCODE(value)
    except RecursionError:
        return None, "nested too deep to encode"
    except (ValueError, TypeError) as exc:  # NaN, Infinity; a value no JSON can hold
        return None, f"not JSON: {exc}"
    if len(text) > MAX_VALUE_CHARS:
        return None, f"longer than {MAX_VALUE_CHARS} characters as JSON"
    # \u0000 and \udXXX escapes, or more containers than MAX_DEPTH: look deeper
    if "\\u0000" in text or "\\ud" in text or text.count("[") + text.count("{") > MAX_DEPTH:
        problem = _json_problem(value)
        if problem:
            return None, problem
    return text, None


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


# format_type()'s longer names of the types column_type() gives (and the narrower integers)
_PG_NAMES = {
    "character varying": "varchar",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time without time zone": "time",
    "integer": "bigint",
    "smallint": "bigint",
}
_CHECKED = ("bigint", "boolean", "timestamptz", "timestamp", "date", "time")


def type_name(sql_type: str) -> str:
    """A column's type as :func:`column_type` spells it, whether it came from there or from
    PostgreSQL's ``format_type`` (a landing table's): one spelling to compare and check."""
    return _PG_NAMES.get(sql_type, sql_type).replace(", ", ",").replace(",", ", ")


def _checked_kind(sql_type: str) -> str | None:
    """The SQL type whose values :func:`cell` checks, or None (text and JSON take anything)."""
    name = type_name(sql_type)
    return name if name in _CHECKED or name.startswith("numeric") else None


def text_of(value, json_column: bool) -> str | None:
    """A record's value as COPY text for its column."""
    if value is None:
        return None
    if isinstance(value, str) and not json_column:
        return value
    return json.dumps(value)


def new_id_prefix() -> str:
    """A writer's random 80 bits: its records' ids are unique across runs without a random draw
    per record (os.urandom is slow on VMs)."""
    return uuid.uuid4().hex[:20]


class StreamWriter:
    """One stream's staging table, filled by COPY in batches."""

    def __init__(
        self,
        conn,
        schema: str,
        stream: str,
        json_schema: dict,
        max_records: int | None = None,
        landed_types: dict[str, str] | None = None,
        whole_record: bool = False,
    ) -> None:
        """``landed_types``: the landing table's columns and types, which the staged columns
        keep (a field retyped upstream lands null with its reason, never a failed promote).
        ``whole_record``: the writer adds ``_record`` (the record as received), in place of
        the manifest's ``AddFields``."""
        from psycopg import sql

        properties = json_schema.get("properties") or {}
        self.fields = list(properties)
        landed_types = landed_types or {}
        types = {
            column_name(f): landed_types.get(column_name(f)) or column_type(properties[f])
            for f in self.fields
        }
        self.json_fields = [types[column_name(f)] == "json" for f in self.fields]
        self.kinds = [_checked_kind(types[column_name(f)]) for f in self.fields]
        columns = {**types, **{name: column.type for name, column in AIRBYTE_COLUMNS.items()}}
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
        self.stream = stream
        self.max_records = max_records
        self.nulled = 0  # records landed with a field nulled (the reason in _airbyte_meta)
        self.id_prefix = new_id_prefix()
        self.extracted: tuple[int, str] = (-1, "")
        self.whole_record = whole_record

    def raw_id(self) -> str:
        """The next record's ``_airbyte_raw_id``: the writer's prefix, then the record's number."""
        n = f"{self.id_prefix}{self.count + len(self.rows):012x}"
        return f"{n[:8]}-{n[8:12]}-{n[12:16]}-{n[16:20]}-{n[20:]}"

    def add(self, data: dict, emitted_at_ms: int) -> None:
        if self.extracted[0] != emitted_at_ms:  # records of one page share their time
            at = datetime.fromtimestamp(emitted_at_ms / 1000, UTC).replace(tzinfo=None).isoformat()
            self.extracted = (emitted_at_ms, at)
        if self.max_records is not None and self.count + len(self.rows) >= self.max_records:
            raise SyncBounded(
                f"stream {self.stream} read more than its max_records ({self.max_records}) in one sync:"
                " an API paging without end? If the window really holds more, raise max_records of"
                f" the stream in include/sources.yaml"
            )
        if self.whole_record:
            data = {**data, WHOLE_RECORD: data}
        values, changes = [], None
        for field, json_column, kind in zip(self.fields, self.json_fields, self.kinds, strict=True):
            text, problem = cell(data.get(field), json_column, kind)
            values.append(text)
            if problem is not None:
                changes = [*(changes or ()), nulled(field, problem)]
        if changes:
            self.nulled += 1
        self.rows.append(
            (*values, self.raw_id(), self.extracted[1], nulled_meta(changes) if changes else CLEAN_META)
        )
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


def _keeps_whole_record(transformation: dict) -> bool:
    """Whether ``transformation`` is the manifest's ``AddFields`` of the whole record as
    ``_record`` (``value: "{{ record }}"``, nothing else)."""
    if transformation.get("type") != "AddFields" or len(transformation.get("fields") or ()) != 1:
        return False
    (added,) = transformation["fields"]
    extra = set(added) - {"type", "path", "value"} or set(transformation) - {"type", "fields", "$parameters"}
    value = added.get("value")
    return (
        not extra
        and added.get("path") == [WHOLE_RECORD]
        and isinstance(value, str)
        and value.replace(" ", "") == "{{record}}"
    )


def take_whole_record(manifest: dict) -> tuple[dict, set[str]]:
    """The manifest (its references resolved) less each stream's ``AddFields`` of ``_record``
    where the writer can do the same (the names of those streams).

    The CDK renders ``{{ record }}`` through Jinja, as text, and parses the text back with
    ``ast.literal_eval`` for every record: about 40% of its reading. The writer lands the same
    JSON from the record it receives, which is the record that ``AddFields`` saw when it is
    the stream's last transformation, no schema normalization follows it and no record
    filter may read ``_record``; any other stream (or one whose name is not plain to see)
    keeps its ``AddFields``."""
    from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import (
        ManifestReferenceResolver,
    )

    resolved = ManifestReferenceResolver().preprocess_manifest(manifest)
    taken = set()
    for stream in resolved.get("streams") or ():
        name = stream.get("name") or (stream.get("$parameters") or {}).get("name")
        transformations = stream.get("transformations") or []
        selector = (stream.get("retriever") or {}).get("record_selector") or {}
        plain = (
            isinstance(name, str)
            and name
            and selector.get("schema_normalization", "None") == "None"
            and "record_filter" not in selector  # a filter may read _record after the transformations
        )
        if plain and transformations and _keeps_whole_record(transformations[-1]):
            stream["transformations"] = transformations[:-1]
            taken.add(name)
    return resolved, taken


def _mentions(value, key: str) -> bool:
    """Whether ``key`` is a key anywhere in the (resolved) manifest ``value``."""
    if isinstance(value, dict):
        return key in value or any(_mentions(item, key) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, key) for item in value)
    return False


def read(request: dict, logger) -> tuple[dict[str, dict], Iterator, set[str]]:
    """The request's streams' JSON schemas, the messages the CDK reads (lazily), and the
    streams whose ``_record`` the writer adds (:func:`take_whole_record`). The CDK reads with
    the runner's fast paths (:func:`skip_cursor_state`, :func:`direct_field_paths`)."""
    import yaml
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    manifest, whole_record = take_whole_record(yaml.safe_load(Path(request["manifest"]).read_text()))
    if not _mentions(manifest, "pagination_reset"):  # its window splits read the cursor's newest value
        skip_cursor_state()
    direct_field_paths()
    config = request["config"]
    catalog, schemas = catalog_of(manifest, config, list(request["streams"]), logger)
    source = ConcurrentDeclarativeSource(catalog=catalog, config=config, source_config=manifest)
    return schemas, source.read(logger, config, catalog, None), whole_record


def guard_pagination() -> None:
    """Make the CDK's retrievers stop when a stream's paginator hands out a next-page token it
    already gave in the same read (the API repeats its cursor): without it the CDK pages for ever.

    One read of a slice is one loop in one thread (``SimpleRetriever._read_pages``), which
    passes back the token it used last: a token that is not the one this guard saw issued
    last for that retriever and thread starts a new read (a new slice, a pagination reset).
    """
    import threading

    from airbyte_cdk.models import FailureType
    from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    original = SimpleRetriever._next_page_token
    if getattr(original, "_liftoff_guard", False):
        return
    reads: dict[tuple[int, int], tuple[str, set[str]]] = {}

    def key_of(token) -> str:
        return json.dumps(token, sort_keys=True, default=str)

    def _next_page_token(
        self,
        response,
        last_page_size,
        last_record,
        last_page_token_value,
        page_size_override=None,
        stream_slice=None,
    ):
        kwargs = {} if page_size_override is None else {"page_size_override": page_size_override}
        if stream_slice is not None:
            kwargs["stream_slice"] = stream_slice
        token = original(self, response, last_page_size, last_record, last_page_token_value, **kwargs)
        where = (id(self), threading.get_ident())
        last = key_of(last_page_token_value)
        read = reads.get(where)
        if read is None or read[0] != last:  # a new read: the tokens seen are its first one's
            read = (last, set() if last_page_token_value is None else {last})
        if token:
            value = token.get("next_page_token")
            issued = key_of(value)
            if issued in read[1]:
                message = (
                    f"stream {self.name}: the API gave the next-page token {issued[:80]} again after"
                    f" {len(read[1])} page(s) of this read (it repeats its cursor): the sync stops rather"
                    " than page for ever; nothing was landed"
                )
                PERMANENT_ERRORS.append(message)
                raise AirbyteTracedException(
                    internal_message=message, message=message, failure_type=FailureType.config_error
                )
            read[1].add(issued)
            read = (issued, read[1])
        reads[where] = read
        return token

    _next_page_token._liftoff_guard = True
    SimpleRetriever._next_page_token = _next_page_token


GLOB = re.compile(r"[*?\[\]!]")  # what dpath reads in a path segment as a pattern


def direct_field_paths() -> None:
    """Make ``dpath.get`` (the CDK's ``DpathExtractor`` finds a page's records with it) index
    straight into the objects along a path of plain keys, such as ``field_path: [data]``.

    ``dpath.get`` walks every value of the response to match the path: about 15% of the
    reading. A path of plain keys into objects has one match at most, found by indexing, and
    it is the same object; any other path (a pattern, a list on the way, a key missing) still
    goes through dpath, with its own default or error.
    """
    import dpath

    original = dpath.get
    if getattr(original, "_liftoff_direct", False):
        return

    def get(obj, glob, separator="/", default=original.__defaults__[-1]):
        if isinstance(glob, list | tuple) and glob:
            value = obj
            for key in glob:
                plain = isinstance(key, str) and key and not GLOB.search(key)
                if not (plain and isinstance(value, dict) and key in value):
                    break
                value = value[key]
            else:
                return value
        return original(obj, glob, separator, default)

    get._liftoff_direct = True
    dpath.get = get


def skip_cursor_state() -> None:
    """Make the CDK's concurrent cursors skip their per-record bookkeeping.

    For its STATE messages, a cursor parses every record's cursor value (``strptime``) and
    hashes the record's slice (JSON, then SHA-256) to keep the newest value per slice: about
    30% of the reading. The runner keeps no Airbyte state: each run reads its own window in
    full, and the platform's runs own the windows. The records and the slices are unchanged;
    the state messages, which the runner drops, no longer carry that newest value. Not for a
    manifest with ``pagination_reset``, whose window splits start from that value (:func:`read`).
    """
    from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor

    ConcurrentCursor.observe = lambda self, record: None


def run(request: dict) -> dict:
    import psycopg
    from airbyte_cdk.models import Level, TraceType, Type
    from psycopg import sql

    logger = logging.getLogger(f"airbyte.{request['name']}")
    streams = list(request["streams"])
    bounds = request.get("max_records") or {}
    guard_pagination()
    schemas, messages, whole_record = read(request, logger)
    pg = request["postgres"]
    with psycopg.connect(
        host=pg["host"],
        port=int(pg["port"]),
        dbname=pg["database"],
        user=pg["username"],
        password=pg.get("password") or None,
    ) as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(pg["schema"])))
        writers = {
            name: StreamWriter(
                conn, pg["schema"], name, schemas[name], bounds.get(name), whole_record=name in whole_record
            )
            for name in streams
        }
        errors: list[str] = []
        try:
            for message in messages:
                if message.type == Type.RECORD:
                    writers[message.record.stream].add(message.record.data, message.record.emitted_at)
                elif message.type == Type.TRACE and message.trace.type == TraceType.ERROR:
                    errors.append(trace_line(message.trace.error))
                elif message.type == Type.LOG and message.log.level in (Level.ERROR, Level.FATAL):
                    errors.append(message.log.message)
        except SyncFailed:
            raise
        except Exception as exc:  # the CDK raises at the end what its messages said first
            if PERMANENT_ERRORS:
                raise SyncBounded(PERMANENT_ERRORS[0]) from exc
            if errors:
                raise SyncFailed(errors[0]) from exc
            raise
        if PERMANENT_ERRORS:
            raise SyncBounded(PERMANENT_ERRORS[0])
        if errors:
            raise SyncFailed(errors[0])
        for writer in writers.values():
            writer.flush()
        conn.commit()
    return {
        "ok": True,
        "records": {name: writer.count for name, writer in writers.items()},
        "nulled": {name: writer.nulled for name, writer in writers.items() if writer.nulled},
    }


def trace_line(error) -> str:
    """The manifest's message for the failure, and what the API answered when it says."""
    message = error.message or error.internal_message or "the connector failed"
    said = error.internal_message or ""
    answered = re.search(r"status code '(\d+)' and error message: '([^']{0,200})", said)
    return message + (f" [HTTP {answered[1]}: {answered[2]}]" if answered else "")


def one_line(exc: BaseException) -> str:
    message = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return message if len(message) <= 500 else message[:497] + "..."


def preload() -> None:
    """Import what a sync imports as it goes: the warm server (``connector_server.py``) does it
    once, and each sync forked from it starts with the CDK loaded."""
    import dpath  # noqa: F401
    import psycopg  # noqa: F401
    import yaml  # noqa: F401
    from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer  # noqa: F401
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import (  # noqa: F401
        ConcurrentDeclarativeSource,
    )
    from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import (  # noqa: F401
        ManifestReferenceResolver,
    )
    from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever  # noqa: F401
    from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor  # noqa: F401
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException  # noqa: F401


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        request = json.loads(sys.stdin.read())
        print(json.dumps(run(request)))
        return 0
    except Exception as exc:  # one line for the caller; the traceback goes to stderr
        import traceback

        traceback.print_exc(file=sys.stderr)
        permanent = isinstance(exc, SyncFailed) and exc.permanent
        print(json.dumps({"ok": False, "error": one_line(exc), "permanent": permanent}))
        return 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # A sync stopped early (a bound, an error) leaves the CDK's reader threads blocked on its
    # queue: exiting normally would wait for them for ever. The answer is printed; just go.
    os._exit(code)
