"""The apps' warehouse roles: what analysts and the entry form may touch, nothing more.

- analyst: reads ``gold`` (now and every table created there later); nothing else. Raw,
  audit and quarantine hold emails and rejected rows.
- entry writer: inserts into the landing tables of pushed sources (``raw_entry.sales``);
  cannot read anything, not even what it wrote.

Roles are cluster-wide in PostgreSQL; the grants are per database. Idempotent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from pydantic import SecretStr

from liftoff.config import Settings, landing_schema

GOLD_SCHEMA = "gold"


def ensure_role(conn: psycopg.Connection, role: str, password: SecretStr | None) -> None:
    """Create ``role`` if missing; with a password it can log in (and gets that password)."""
    login = (
        sql.SQL("login password {}").format(sql.Literal(password.get_secret_value()))
        if password
        else sql.SQL("nologin")
    )
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        # another database's bootstrap may create it at the same moment: that is fine
        conn.execute(
            sql.SQL(
                "do $$ begin create role {role} {login}; exception when duplicate_object then null; end $$"
            ).format(role=sql.Identifier(role), login=login)
        )
    elif password:
        conn.execute(sql.SQL("alter role {} {}").format(sql.Identifier(role), login))


def grant_app_roles(conn: psycopg.Connection, settings: Settings, pushed: dict[str, list[str]]) -> None:
    """The analyst's and the entry writer's privileges; ``pushed``: source -> its streams."""
    analyst, writer = sql.Identifier(settings.analyst_role), sql.Identifier(settings.entry_writer_role)
    ensure_role(conn, settings.analyst_role, settings.analyst_password)
    ensure_role(conn, settings.entry_writer_role, settings.entry_writer_password)
    gold = sql.Identifier(GOLD_SCHEMA)
    statements = [
        # nobody creates tables in public but its owner (PostgreSQL 15's default, made explicit)
        sql.SQL("revoke create on schema public from public"),
        sql.SQL("grant usage on schema {} to {}").format(gold, analyst),
        sql.SQL("grant select on all tables in schema {} to {}").format(gold, analyst),
        # the tables dbt creates later (a full refresh recreates them) are readable too
        sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(gold, analyst),
    ]
    for source, streams in pushed.items():
        schema = sql.Identifier(landing_schema(source))
        statements.append(sql.SQL("grant usage on schema {} to {}").format(schema, writer))
        statements += [
            sql.SQL("grant insert on {} to {}").format(sql.Identifier(landing_schema(source), stream), writer)
            for stream in streams
        ]
    for statement in statements:
        conn.execute(statement)
