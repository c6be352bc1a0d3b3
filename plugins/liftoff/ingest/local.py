"""Local ingestion: the Airbyte CDK runs the source's declarative manifest for one interval.

The CDK lives in its own virtualenv. This module starts ``cdk_runner.py`` there, which COPYs
the records into a staging schema that belongs to this run only
(``raw_<source>__<interval>__<run>``), so two runs of one interval (a retry beside a stalled
attempt, say) never share one.

Only when the whole sync has succeeded are the rows promoted to ``raw_<source>.<stream>``,
in one transaction. The promote replaces the window's landed rows (for a snapshot, all of
them) with the new ones. It holds each landing table's advisory lock (the one the Kafka
landing takes too), so only one promote writes a table at a time. A failed or killed sync
leaves landing as it was; a staging table that is missing at promote time is an error,
never an empty window.

A run holds a session lock on its staging schema while it lives, so the next run of the
source drops only the schemas of killed runs. The stream's cursor (``liftoff.ingest.state``)
moves forward, and a gap before the window is reported.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import uuid
from dataclasses import dataclass

import psycopg
from psycopg import sql

from liftoff.batch import Batch, Interval
from liftoff.config import ConfigError, Settings, SourceConfig, first_line, landing_schema
from liftoff.ingest import warm_connector
from liftoff.ingest.protocol import IngestError, connector_env
from liftoff.ingest.state import check_continuity, record_sync
from liftoff.warehouse.location import Warehouse

RUNNER = warm_connector.RUNNER
log = logging.getLogger(__name__)
AIRBYTE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class RunnerOutcome:
    records: dict[str, int]  # records read per stream
    nulled: dict[str, int]  # records that landed with fields nulled, per stream (reasons in _airbyte_meta)


class PaginationLoop(IngestError, ConfigError):
    """The API pages without end (a stream over its ``max_records``, a repeated next-page
    cursor): retrying would loop again, so it fails at once (a ConfigError), in one line."""


def connector_config(source: SourceConfig, interval: Interval, env: dict[str, str] | None = None) -> dict:
    """The manifest's config: the window plus values read from the environment."""
    env = os.environ if env is None else env
    base_url = env.get(source.config.base_url_env)
    if not base_url:
        raise ConfigError(f"{source.config.base_url_env} is not set: the API URL of the source")
    config = {
        "base_url": base_url.rstrip("/") + source.config.base_path,
        "start_date": interval.start.strftime(AIRBYTE_TIME_FORMAT),
        "end_date": interval.end.strftime(AIRBYTE_TIME_FORMAT),
    }
    if source.config.page_size:
        config["page_size"] = source.config.page_size
    key_env = source.config.api_key_env
    if key_env and env.get(key_env):
        config["api_key"] = env[key_env]
    elif source.config.api_key_required:
        raise ConfigError(f"{key_env} is not set: the source's API key")
    return config


def staging_schema(name: str, interval: Interval, run: str | None = None) -> str:
    """Where one run's connector writes: its own schema, so parallel days and two runs of
    one day never meet. ``run``: 8 hex digits, a new one per call if not given."""
    run = run or uuid.uuid4().hex[:8]
    base = f"{landing_schema(name)}__{interval.start:%Y%m%d%H%M}"
    return f"{base[: 63 - len(run) - 2]}__{run}"  # PostgreSQL cuts names at 63 bytes: keep the run's part


def _staging_pattern(name: str) -> re.Pattern[str]:
    """The staging schemas of ``name``'s runs (and the run-less ones of before)."""
    return re.compile(rf"{re.escape(landing_schema(name))}__\d{{12}}(__[0-9a-f]{{8}})?")


def _try_lock(conn: psycopg.Connection, key: str) -> bool:
    """The session's advisory lock on ``key`` (a staging schema's name), if no one holds it."""
    return bool(conn.execute("select pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0])


def drop_abandoned_staging(conn: psycopg.Connection, name: str) -> list[str]:
    """Drop the staging schemas of ``name`` that no live run holds (killed runs'); return them."""
    pattern = _staging_pattern(name)
    found = conn.execute(
        "select nspname from pg_namespace where starts_with(nspname, %s) order by 1",
        (landing_schema(name) + "__",),
    ).fetchall()
    dropped = []
    for (schema,) in found:
        if not pattern.fullmatch(schema) or not _try_lock(conn, schema):
            continue
        try:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            dropped.append(schema)
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (schema,))
    if dropped:
        log.info(
            "dropped the staging schemas of %d run(s) of %s that did not finish: %s",
            len(dropped),
            name,
            dropped,
        )
    return dropped


def sync_interval(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: Warehouse,
    settings: Settings,
    *,
    timeout_seconds: int = 1800,
) -> dict[str, int]:
    """Sync ``interval`` of every stream of ``source``; return the rows landed per stream.

    A manifest runs in the Airbyte CDK's virtualenv; a PyPI connector in its own
    (``liftoff.ingest.connector_sync``, which also keeps its STATE and reports schema changes).
    """
    batches = Batch.all_of(name, source, interval)
    staging = staging_schema(name, interval)
    if source.connector is not None:
        from liftoff.ingest.connector_sync import ConnectorRun

        sync = ConnectorRun(name, source, interval, settings, timeout_seconds)
    else:
        python = settings.airbyte_python
        if not python.exists():
            raise ConfigError(
                f"the connector virtualenv (Airbyte CDK) not found at {python}: run `make install`"
            )
        sync = ManifestRun(name, source, interval, settings, timeout_seconds)
    # This session holds the staging schema's lock while the run lives, marking the schema as
    # this run's (autocommit, so no transaction stays open).
    with target.connect(autocommit=True) as guard:
        require_bootstrapped(guard, name)
        guard.execute("select pg_advisory_lock(hashtext(%s))", (staging,))
        for batch in batches:
            if batch.cursor_field is not None:
                check_continuity(guard, batch)
        drop_abandoned_staging(guard, name)
        try:
            outcome = sync.run(target, staging, guard)
            with target.connect() as conn, conn.transaction():
                lock_landing(conn, batches)
                landed = {
                    batch.stream: promote(conn, batch, staging, merge_key=sync.merge_key(batch.stream))
                    for batch in batches
                }
                for batch in batches:
                    if batch.cursor_field is not None:
                        record_sync(conn, batch, landed[batch.stream])
                sync.committing(conn)
            try:  # the rows are landed: what follows must not fail the sync
                sync.committed(guard)
            except Exception as exc:
                log.error("%s: landed, but what follows the landing failed: %s", name, first_line(exc))
        finally:
            guard.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
            guard.execute("select pg_advisory_unlock(hashtext(%s))", (staging,))
    for stream, count in outcome.nulled.items():
        log.warning(
            "%s.%s: %d record(s) held values the landing table cannot store (a NUL, a lone surrogate,"
            " NaN, too deep or too big, a value of a retyped field): landed with those fields null and"
            " the reason in _airbyte_meta; the gate quarantines them when their contract needs them",
            name,
            stream,
            count,
        )
    return landed


@dataclass
class ManifestRun:
    """One sync of a declarative manifest: ``cdk_runner.py`` in the CDK's virtualenv, which
    reads the run's window (the config's start and end dates) in full-refresh mode."""

    name: str
    source: SourceConfig
    interval: Interval
    settings: Settings
    timeout_seconds: int

    def run(self, target: Warehouse, staging: str, guard: psycopg.Connection) -> RunnerOutcome:
        config = connector_config(self.source, self.interval)
        return run_connector(
            self.name,
            self.source,
            self.interval,
            config,
            target,
            self.settings,
            staging,
            self.timeout_seconds,
        )

    def merge_key(self, stream: str) -> str | None:
        return None  # the window's landed rows are replaced by the window read again

    def committing(self, conn: psycopg.Connection) -> None:
        pass  # a manifest keeps no state: the window is its config

    def committed(self, guard: psycopg.Connection) -> None:
        pass  # no schema changes to announce: a manifest's schema is the file's


def lock_landing(conn: psycopg.Connection, batches: list[Batch]) -> None:
    """Take each batch's landing table's advisory lock for the transaction, in one order:
    the key the Kafka landing takes (``pg_advisory_xact_lock(hashtext('raw_<source>.<stream>'))``),
    so two promotes of one table (two runs of a day, two days' snapshots) never interleave."""
    for table in sorted({f"{landing_schema(batch.source)}.{batch.stream}" for batch in batches}):
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (table,))


def require_bootstrapped(conn: psycopg.Connection, name: str) -> None:
    """The landing schema of ``name`` and the audit tables exist: else say what to run."""
    found = conn.execute(
        "select to_regnamespace(%s) is not null and to_regclass('audit.sync_state') is not null",
        (landing_schema(name),),
    ).fetchone()[0]
    if not found:
        raise ConfigError(
            f"{landing_schema(name)} or the audit tables do not exist: run `liftoff bootstrap`"
            " (after adding a source, or on a new warehouse)"
        )


def run_connector(
    name: str,
    source: SourceConfig,
    interval: Interval,
    config: dict,
    target: Warehouse,
    settings: Settings,
    schema: str,
    timeout_seconds: int,
) -> RunnerOutcome:
    """Run the manifest with the Airbyte CDK into ``schema``; return the records read per
    stream and those that landed with fields nulled (values PostgreSQL cannot store).

    Failures raise IngestError in one line; an API paging without end, PaginationLoop.
    """
    request = {
        "name": f"source-liftoff-{name}",
        "manifest": str(source.manifest_path),
        "config": config,
        "streams": list(source.streams),
        "max_records": {stream: config_.max_records for stream, config_ in source.streams.items()},
        "postgres": {
            "host": target.host,
            "port": target.port,
            "database": target.database,
            "username": target.user,
            "password": target.password,
            "schema": schema,
        },
    }
    try:
        text, env = json.dumps(request), connector_env()
        # forked from the worker's warm runner when it has one (the CDK imported), else cold
        done = warm_connector.run(settings.airbyte_python, text, env, timeout_seconds) or subprocess.run(
            [str(settings.airbyte_python), str(RUNNER)],
            input=text,
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(f"sync of {name} for {interval.day} timed out after {timeout_seconds}s") from exc
    lines = done.stdout.strip().splitlines()
    try:
        outcome = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        outcome = {}
    if done.returncode != 0 or not outcome.get("ok"):
        said = done.stderr.strip().splitlines()
        log.warning("the connector's last lines for %s:\n%s", name, "\n".join(said[-20:]))
        reason = outcome.get("error") or (said or ["no output"])[-1]
        if outcome.get("permanent"):
            raise PaginationLoop(f"sync of {name} for {interval.day} failed: {reason}")
        raise IngestError(f"sync of {name} for {interval.day} failed: {reason}")
    return RunnerOutcome(
        {stream: int(n) for stream, n in outcome.get("records", {}).items()},
        {stream: int(n) for stream, n in outcome.get("nulled", {}).items()},
    )


def column_types(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    """A table's columns and their types, in order; empty if the table does not exist."""
    rows = conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))"
        " and attnum > 0 and not attisdropped order by attnum",
        (schema, table),
    ).fetchall()
    return dict(rows)


def promote(conn: psycopg.Connection, batch: Batch, staging: str, *, merge_key: str | None = None) -> int:
    """Replace the batch's landed rows with the staged ones; return the batch's row count.

    ``merge_key`` (the primary key column of a connector's incremental stream, whose read may
    reach past the window): the staged rows replace the landed rows of the same primary key
    and cursor, wherever their cursor falls; nothing else is deleted, so rereading never
    duplicates and never loses.

    Landing gains any column the staged table has and it lacks (a new upstream field). Holds
    the landing table's advisory lock until the transaction ends: under READ COMMITTED two
    promotes of one table (two runs of a day; two days' snapshots in a backfill) would each
    delete what it sees and both insert, keeping both; one after the other, the second
    replaces the first.
    """
    lock_landing(conn, [batch])
    staged = column_types(conn, staging, batch.stream)
    if not staged:  # the runner makes every stream's table, an empty window's too: someone dropped it
        raise IngestError(
            f"the staging table {staging}.{batch.stream} is gone (dropped by another run?):"
            f" nothing of {batch.source}.{batch.stream} for {batch.interval.day} was promoted; rerun the day"
        )
    schema = landing_schema(batch.source)
    landed = column_types(conn, schema, batch.stream)
    if not landed:
        conn.execute(
            sql.SQL("create table {} (like {})").format(batch.table, sql.Identifier(staging, batch.stream))
        )
    for column, type_ in staged.items():
        if column not in landed:
            conn.execute(
                sql.SQL("alter table {} add column if not exists {} {}").format(
                    batch.table, sql.Identifier(column), sql.SQL(type_)
                )
            )
    names = sql.SQL(", ").join(sql.Identifier(c) for c in staged)
    staged_table = sql.Identifier(staging, batch.stream)
    if merge_key is not None and batch.cursor_field is not None:
        key, cursor = sql.Identifier(merge_key), sql.Identifier(batch.cursor_field)
        conn.execute(
            sql.SQL(
                "delete from {landed} l using {staged} s where l.{key}::text = s.{key}::text"
                " and l.{cursor}::text is not distinct from s.{cursor}::text"
            ).format(landed=batch.table, staged=staged_table, key=key, cursor=cursor)
        )
    else:
        batch.delete_landed(conn)
    _forget_uncursored(conn, batch)
    conn.execute(
        sql.SQL("insert into {} ({}) select {} from {}").format(batch.table, names, names, staged_table)
    )
    if batch.cursor_field is not None and batch.cursor_field in staged:
        # rows with no readable cursor belong to this run's batch, where the gate judges them
        conn.execute(
            sql.SQL(
                "insert into audit.landed_uncursored (source, stream, interval_start, airbyte_raw_id)"
                " select {}, {}, {}, _airbyte_raw_id from {} where {} is null"
            ).format(
                sql.Literal(batch.source),
                sql.Literal(batch.stream),
                sql.Literal(batch.interval.start),
                staged_table,
                batch.cursor(),
            )
        )
    return batch.count(conn)


def _forget_uncursored(conn: psycopg.Connection, batch: Batch) -> None:
    conn.execute(
        "delete from audit.landed_uncursored where source = %s and stream = %s and interval_start = %s",
        (batch.source, batch.stream, batch.interval.start),
    )
