"""The warehouse roles: each may touch what its job needs, nothing more.

- pipeline: what Airflow's tasks and dbt log in as (the ``warehouse`` connection). Reads
  and writes the audit and catalog tables, lands synced sources in local mode (it owns
  those landing tables: the connector creates them and adds new upstream columns), reads
  what an Airbyte server's destination lands as the owner (default privileges) and the
  pushed landing tables, replaces a day's slice of a streamed source's landing table (the
  Kafka topic's messages), builds the dbt layers (it owns their tables). No superuser,
  CREATEDB or CREATEROLE; it owns no schema.
- analyst: reads ``gold`` (now and every table dbt creates there later); nothing else. Raw,
  audit and quarantine hold emails and rejected rows.
- entry writer: inserts into the landing tables of pushed sources (``raw_entry.sales``);
  cannot read anything, not even what it wrote.

Passwords travel as SCRAM verifiers computed here (libpq's ``PQencryptPasswordConn``): the
secret itself is never in SQL text, so never in the server's log. Roles are cluster-wide in
PostgreSQL; the grants are per database. Idempotent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from pydantic import SecretStr

from liftoff.config import ConfigError, Settings, landing_schema

LAYER_SCHEMAS = ("bronze", "silver", "gold")
GOLD_SCHEMA = "gold"
# The apps' sessions: a runaway dashboard query or a stuck form cannot hold the warehouse.
APP_LIMITS = {"statement_timeout": "60s", "idle_in_transaction_session_timeout": "60s"}
APP_CONNECTION_LIMIT = 20
PIPELINE_CONNECTION_LIMIT = 50


def password_verifier(conn: psycopg.Connection, role: str, password: SecretStr) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` for ``role``, as the server would store it."""
    secret = password.get_secret_value().encode()
    return conn.pgconn.encrypt_password(secret, role.encode(), b"scram-sha-256").decode()


def ensure_role(
    conn: psycopg.Connection, role: str, password: SecretStr | None, *, connection_limit: int
) -> None:
    """Create ``role`` if missing; with a password it can log in (and gets that password).

    Never superuser, CREATEDB, CREATEROLE or a member of another role.
    """
    options = sql.SQL("nosuperuser nocreatedb nocreaterole noinherit connection limit {}").format(
        sql.Literal(connection_limit)
    )
    login = (
        sql.SQL("login password {}").format(sql.Literal(password_verifier(conn, role, password)))
        if password
        else sql.SQL("nologin")
    )
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        try:
            with conn.transaction():  # another database's bootstrap may create it at the same moment
                conn.execute(sql.SQL("create role {} {} {}").format(sql.Identifier(role), options, login))
            return
        except psycopg.errors.DuplicateObject:
            pass
    conn.execute(
        sql.SQL("alter role {} {} {}").format(
            sql.Identifier(role), options, login if password else sql.SQL("")
        )
    )


def grant_roles(
    conn: psycopg.Connection,
    settings: Settings,
    synced: list[str],
    pushed: dict[str, list[str]],
    streamed: dict[str, list[str]] | None = None,
) -> None:
    """Create the three roles and grant each its privileges in this database.

    ``synced``: the sources a connector lands; ``pushed``: an app's sources -> their streams;
    ``streamed``: the stream sources -> their streams (the pipeline replaces a day's slice).
    """
    roles = (settings.pipeline_role, settings.analyst_role, settings.entry_writer_role)
    if conn.info.user in roles or len(set(roles)) < len(roles):
        raise ConfigError(
            f"the pipeline, analyst and entry writer roles ({', '.join(roles)}) must be three roles,"
            f" none of them the bootstrap's own login ({conn.info.user})"
        )
    pipeline = sql.Identifier(settings.pipeline_role)
    analyst = sql.Identifier(settings.analyst_role)
    writer = sql.Identifier(settings.entry_writer_role)
    ensure_role(
        conn, settings.pipeline_role, settings.pipeline_password, connection_limit=PIPELINE_CONNECTION_LIMIT
    )
    for role, password in (
        (settings.analyst_role, settings.analyst_password),
        (settings.entry_writer_role, settings.entry_writer_password),
    ):
        ensure_role(conn, role, password, connection_limit=APP_CONNECTION_LIMIT)
        for name, value in APP_LIMITS.items():
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    sql.Identifier(role), sql.Identifier(name), sql.Literal(value)
                )
            )
    database = sql.Identifier(conn.info.dbname)
    statements = [
        # nobody creates tables in public but its owner (PostgreSQL 15's default, made explicit)
        sql.SQL("revoke create on schema public from public"),
        # temporary tables only for dbt (its incremental models stage in them)
        sql.SQL("revoke temporary on database {} from public").format(database),
        sql.SQL("grant temporary on database {} to {}").format(database, pipeline),
        # the connector runner stages each sync in a schema of its own, then drops it
        sql.SQL("grant create on database {} to {}").format(database, pipeline),
        sql.SQL("grant usage on schema audit, catalog to {}").format(pipeline),
        sql.SQL("grant select, insert, update, delete on all tables in schema audit, catalog to {}").format(
            pipeline
        ),
        sql.SQL("grant usage, create on schema {} to {}").format(
            sql.SQL(", ").join(map(sql.Identifier, LAYER_SCHEMAS)), pipeline
        ),
        sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(GOLD_SCHEMA), analyst),
        sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(GOLD_SCHEMA), analyst),
        # the tables dbt creates later, as the pipeline (a full refresh recreates them), too
        sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
            pipeline, sql.Identifier(GOLD_SCHEMA), analyst
        ),
    ]
    for source in synced:
        schema = sql.Identifier(landing_schema(source))
        statements += [
            sql.SQL("grant usage, create on schema {} to {}").format(schema, pipeline),
            # server mode: an Airbyte destination logged in as this owner makes the tables
            sql.SQL("grant select on all tables in schema {} to {}").format(schema, pipeline),
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                schema, pipeline
            ),
        ]
    for source, streams in pushed.items():
        schema = sql.Identifier(landing_schema(source))
        statements.append(sql.SQL("grant usage on schema {} to {}, {}").format(schema, writer, pipeline))
        for stream in streams:
            table = sql.Identifier(landing_schema(source), stream)
            statements.append(sql.SQL("grant insert on {} to {}").format(table, writer))
            statements.append(sql.SQL("grant select on {} to {}").format(table, pipeline))
    for source, streams in (streamed or {}).items():
        statements.append(
            sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(landing_schema(source)), pipeline)
        )
        for stream in streams:
            statements.append(
                sql.SQL("grant select, insert, delete on {} to {}").format(
                    sql.Identifier(landing_schema(source), stream), pipeline
                )
            )
    for statement in statements:
        conn.execute(statement)
