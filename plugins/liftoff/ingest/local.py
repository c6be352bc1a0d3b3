"""Embedded ingestion: the source's declarative manifest run by the Airbyte CDK, for one interval.

The CDK lives in its own virtualenv; this module starts ``cdk_runner.py`` there, which
COPYs the records into a staging schema of the run's own
(``raw_<source>__<interval>``); only when the whole sync succeeded are the rows promoted to
``raw_<source>.<stream>`` in one transaction: the window's landed rows (a snapshot's: all
of them) replaced by the new ones. A failed or killed sync leaves landing as it was.
The stream's cursor (``liftoff.ingest.state``) moves forward; a gap before the window is
reported.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from liftoff.batch import Batch, Interval
from liftoff.config import TELEMETRY_OFF, ConfigError, Settings, SourceConfig, landing_schema
from liftoff.ingest.state import check_continuity, record_sync
from liftoff.warehouse.location import Warehouse

RUNNER = Path(__file__).with_name("cdk_runner.py")
log = logging.getLogger(__name__)
AIRBYTE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class IngestError(RuntimeError):
    """The connector run failed; the message says why in one line."""


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


def staging_schema(name: str, interval: Interval) -> str:
    """Where one run's connector writes: its own schema, so parallel days never meet."""
    return f"{landing_schema(name)}__{interval.start:%Y%m%d%H%M}"


def sync_interval(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: Warehouse,
    settings: Settings,
    *,
    timeout_seconds: int = 1800,
) -> dict[str, int]:
    """Sync ``interval`` of every stream of ``source``; return the rows landed per stream."""
    python = settings.airbyte_python
    if not python.exists():
        raise ConfigError(f"the connector virtualenv (Airbyte CDK) not found at {python}: run `make install`")
    batches = Batch.all_of(name, source, interval)
    config = connector_config(source, interval)
    staging = staging_schema(name, interval)
    with target.connect() as conn:
        require_bootstrapped(conn, name)
        for batch in batches:
            if batch.cursor_field is not None:
                check_continuity(conn, batch)
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
        conn.commit()
    try:
        run_connector(name, source, interval, config, target, settings, staging, timeout_seconds)
        with target.connect() as conn, conn.transaction():
            landed = {batch.stream: promote(conn, batch, staging) for batch in batches}
            for batch in batches:
                if batch.cursor_field is not None:
                    record_sync(conn, batch, landed[batch.stream])
    finally:
        with target.connect() as conn:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
    return landed


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
) -> dict[str, int]:
    """Run the manifest with the Airbyte CDK into ``schema``; return the records read per stream.

    Failures raise IngestError in one line.
    """
    request = {
        "name": f"source-liftoff-{name}",
        "manifest": str(source.manifest_path),
        "config": config,
        "streams": list(source.streams),
        "postgres": {
            "host": target.host,
            "port": target.port,
            "database": target.database,
            "username": target.user,
            "password": target.password,
            "schema": schema,
        },
    }
    env = {**os.environ, **TELEMETRY_OFF}
    try:
        done = subprocess.run(
            [str(settings.airbyte_python), str(RUNNER)],
            input=json.dumps(request),
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
        raise IngestError(f"sync of {name} for {interval.day} failed: {reason}")
    return {stream: int(n) for stream, n in outcome.get("records", {}).items()}


def _columns(conn: psycopg.Connection, schema: str, table: str) -> dict[str, str]:
    """A table's columns and their types, in order; empty if the table does not exist."""
    rows = conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text))"
        " and attnum > 0 and not attisdropped order by attnum",
        (schema, table),
    ).fetchall()
    return dict(rows)


def promote(conn: psycopg.Connection, batch: Batch, staging: str) -> int:
    """Replace the batch's landed rows with the staged ones; return the batch's row count.

    Landing gains any column the staged table has and it lacks (a new upstream field).
    """
    staged = _columns(conn, staging, batch.stream)
    if not staged:  # the connector wrote nothing for the stream: an empty window
        batch.delete_landed(conn)
        _forget_uncursored(conn, batch)
        return batch.count(conn)
    schema = landing_schema(batch.source)
    landed = _columns(conn, schema, batch.stream)
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
    batch.delete_landed(conn)
    _forget_uncursored(conn, batch)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in staged)
    staged_table = sql.Identifier(staging, batch.stream)
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
