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
- entry writer: inserts into the landing tables of pushed sources (``raw_entry.sales``),
  every column but ``entered_by`` (the server writes the login there); cannot read
  anything, not even what it wrote.
- sellers (``liftoff deployment seller add``): a salesperson's own login, a member of the
  entry writer and nothing else: the team's entry app connects as the person, so each sale
  records who entered it.
- liftoff_reader: what ``liftoff sql`` logs in as: reads every platform schema (landing,
  audit, catalog, the layers), writes nothing. No password of its own: the owner's command
  gives it a fresh one for a minute (``temporary_login``).
- liftoff_restorer: what ``liftoff archive restore`` writes landing as: it may only become
  the pipeline (``set role``), so whatever the pipeline made (a trigger, a policy, a type
  on its landing table) runs as the pipeline, never as the owner. Temporary logins too.

The owner never reads or writes a table the pipeline owns in its own session: the pipeline
could have put code on it that would run with the owner's rights.

Passwords travel as SCRAM verifiers computed here (libpq's ``PQencryptPasswordConn``): the
secret itself is never in SQL text, so never in the server's log. Roles are cluster-wide in
PostgreSQL; the grants are per database. Idempotent.
"""

from __future__ import annotations

import re
import secrets

import psycopg
from psycopg import sql
from pydantic import SecretStr

from liftoff.config import GOLD_SCHEMA, LAYERS, ConfigError, Settings, landing_schema
from liftoff.errors import Refused
from liftoff.ingest.landing_layout import ENTERED_BY
from liftoff.warehouse.location import Warehouse

# The apps' sessions: a runaway dashboard query or a stuck form cannot hold the warehouse.
APP_LIMITS = {"statement_timeout": "60s", "idle_in_transaction_session_timeout": "60s"}
APP_CONNECTION_LIMIT = 20
PIPELINE_CONNECTION_LIMIT = 50
# The owner's commands' helpers: no password until a command gives one, valid a minute.
READER_ROLE = "liftoff_reader"
RESTORER_ROLE = "liftoff_restorer"
HELPER_CONNECTION_LIMIT = 5
TEMPORARY_LOGIN_SECONDS = 60
# Never granted to a role of ours, and refused when found (only a superuser can set them).
FORBIDDEN_ATTRIBUTES = ("rolsuper", "rolreplication", "rolbypassrls")


def password_verifier(conn: psycopg.Connection, role: str, password: SecretStr) -> str:
    """The SCRAM-SHA-256 verifier of ``password`` for ``role``, as the server would store it."""
    secret = password.get_secret_value().encode()
    return conn.pgconn.encrypt_password(secret, role.encode(), b"scram-sha-256").decode()


def ensure_role(
    conn: psycopg.Connection, role: str, password: SecretStr | None, *, connection_limit: int
) -> None:
    """Create ``role`` if missing; with a password it can log in (and gets that password).

    Never superuser, CREATEDB, CREATEROLE or a member of another role. An existing role that
    is a superuser (or may replicate or bypass row security) is refused in one line, never
    quietly reset: on-call must learn how it became one (docs/runbook.md). Only the
    attributes that differ are altered: an owner that is not a superuser may not even name
    the superuser attribute.
    """
    login = (
        sql.SQL("login password {}").format(sql.Literal(password_verifier(conn, role, password)))
        if password
        else None
    )
    found = conn.execute(
        "select rolsuper, rolreplication, rolbypassrls, rolcreatedb, rolcreaterole, rolinherit,"
        " rolconnlimit from pg_catalog.pg_roles where rolname = %s",
        (role,),
    ).fetchone()
    if found is None:
        options = sql.SQL("nosuperuser nocreatedb nocreaterole noinherit connection limit {}").format(
            sql.Literal(connection_limit)
        )
        try:
            with conn.transaction():  # another database's bootstrap may create it at the same moment
                conn.execute(
                    sql.SQL("create role {} {} {}").format(
                        sql.Identifier(role), options, login or sql.SQL("nologin")
                    )
                )
            return
        except psycopg.errors.DuplicateObject:
            found = conn.execute(
                "select rolsuper, rolreplication, rolbypassrls, rolcreatedb, rolcreaterole, rolinherit,"
                " rolconnlimit from pg_catalog.pg_roles where rolname = %s",
                (role,),
            ).fetchone()
    superuser, replication, bypassrls, createdb, createrole, inherit, limit = found
    if superuser or replication or bypassrls:
        granted = [
            name
            for name, on in (("SUPERUSER", superuser), ("REPLICATION", replication), ("BYPASSRLS", bypassrls))
            if on
        ]
        raise ConfigError(
            f"role {role} has {', '.join(granted)}, which liftoff never grants: find out how it got it"
            f" (docs/runbook.md, 'A role has more than it should'), then as a superuser:"
            f" alter role {role} nosuperuser noreplication nobypassrls"
        )
    changes = [
        clause
        for clause, differs in (
            (sql.SQL("nocreatedb"), createdb),
            (sql.SQL("nocreaterole"), createrole),
            (sql.SQL("noinherit"), inherit),
            (sql.SQL("connection limit {}").format(sql.Literal(connection_limit)), limit != connection_limit),
            (login, login is not None),
        )
        if differs
    ]
    if changes:
        conn.execute(sql.SQL("alter role {} {}").format(sql.Identifier(role), sql.SQL(" ").join(changes)))


def connect_as_helper(conn: psycopg.Connection, owner: Warehouse, role: str) -> psycopg.Connection:
    """A session of ``role`` (a helper: reader, restorer), opened by the owner's command.

    ``conn``, the owner's session, gives the role a fresh password valid for a minute (it
    lives only in this process, and as a SCRAM verifier in the server), then the role logs
    in with it. Commands at once take turns (an advisory lock) so none changes the password
    another is about to use. Commits ``conn``.
    """
    conn.commit()
    conn.execute("select pg_catalog.pg_advisory_lock(pg_catalog.hashtext(%s))", (f"liftoff.login.{role}",))
    try:
        password = SecretStr(secrets.token_urlsafe(24))
        valid_until = conn.execute(
            "select (pg_catalog.now() + pg_catalog.make_interval(secs => %s))::pg_catalog.text",
            (TEMPORARY_LOGIN_SECONDS,),
        ).fetchone()[0]
        conn.execute(
            sql.SQL("alter role {} login password {} valid until {}").format(
                sql.Identifier(role),
                sql.Literal(password_verifier(conn, role, password)),
                sql.Literal(valid_until),
            )
        )
        conn.commit()
        return owner.as_role(role, password).connect()
    finally:
        conn.execute(
            "select pg_catalog.pg_advisory_unlock(pg_catalog.hashtext(%s))", (f"liftoff.login.{role}",)
        )
        conn.commit()


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
    roles = (
        settings.pipeline_role,
        settings.analyst_role,
        settings.entry_writer_role,
        READER_ROLE,
        RESTORER_ROLE,
    )
    if conn.info.user in roles or len(set(roles)) < len(roles):
        raise ConfigError(
            f"the pipeline, analyst, entry writer and helper roles ({', '.join(roles)}) must be five roles,"
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
    reader, restorer = sql.Identifier(READER_ROLE), sql.Identifier(RESTORER_ROLE)
    for role in (READER_ROLE, RESTORER_ROLE):
        ensure_role(conn, role, None, connection_limit=HELPER_CONNECTION_LIMIT)
    # The owner may act as the pipeline (default privileges for its tables; a non-superuser
    # owner needs the membership for that), never the other way round.
    superuser = conn.execute(
        "select rolsuper from pg_catalog.pg_roles where rolname = current_user"
    ).fetchone()[0]
    if not superuser:
        conn.execute(
            sql.SQL("grant {} to current_user {}").format(
                pipeline,
                sql.SQL("with inherit true, set true" if conn.info.server_version >= 160000 else ""),
            )
        )
    database = sql.Identifier(conn.info.dbname)
    landing = [sql.Identifier(landing_schema(source)) for source in [*synced, *pushed, *(streamed or {})]]
    owner_made = [sql.Identifier("audit"), sql.Identifier("catalog"), *landing]
    pipeline_made = [
        *map(sql.Identifier, LAYERS),
        *(sql.Identifier(landing_schema(s)) for s in synced),
    ]
    statements = [
        # nobody creates tables in public but its owner (PostgreSQL 15's default, made explicit)
        sql.SQL("revoke create on schema public from public"),
        # temporary tables only for dbt (its incremental models stage in them)
        sql.SQL("revoke temporary on database {} from public").format(database),
        sql.SQL("grant temporary on database {} to {}").format(database, pipeline),
        # The connector runner stages each sync in a schema of its own, then drops it
        # (liftoff.ingest.local): the one reason the pipeline may create a schema. What it
        # makes never runs as the owner: owner sessions resolve names in pg_catalog only
        # (liftoff.warehouse.location), the bootstrap refuses a schema of its own that another
        # role made (check_schema_owners), and the owner never reads or writes a pipeline's
        # table in its own session (the restorer and reader roles do).
        sql.SQL("grant create on database {} to {}").format(database, pipeline),
        # the restorer becomes the pipeline to write landing; the reader reads, nothing else
        sql.SQL("grant {} to {}").format(pipeline, restorer),
        sql.SQL("grant connect on database {} to {}, {}").format(database, reader, restorer),
        sql.SQL("grant usage on schema audit, catalog to {}").format(pipeline),
        sql.SQL("grant select, insert, update, delete on all tables in schema audit, catalog to {}").format(
            pipeline
        ),
        sql.SQL("grant usage, create on schema {} to {}").format(
            sql.SQL(", ").join(map(sql.Identifier, LAYERS)), pipeline
        ),
        sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(GOLD_SCHEMA), analyst),
        sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(GOLD_SCHEMA), analyst),
        # the tables dbt creates later, as the pipeline (a full refresh recreates them), too
        sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
            pipeline, sql.Identifier(GOLD_SCHEMA), analyst
        ),
    ]
    schemas = sql.SQL(", ").join([*owner_made, *map(sql.Identifier, LAYERS)])
    statements += [
        sql.SQL("grant usage on schema {} to {}").format(schemas, reader),
        sql.SQL("grant select on all tables in schema {} to {}").format(schemas, reader),
        sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
            sql.SQL(", ").join(owner_made), reader
        ),
        sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
            pipeline, sql.SQL(", ").join(pipeline_made), reader
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
            # every column but entered_by (the server fills it in): a table-wide grant first
            # revoked (it covers every column, entered_by included; older bootstraps gave it)
            columns = conn.execute(
                "select a.attname from pg_catalog.pg_attribute a"
                " join pg_catalog.pg_class c on c.oid = a.attrelid"
                " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped"
                " and a.attname <> %s order by a.attnum",
                (landing_schema(source), stream, ENTERED_BY),
            ).fetchall()
            statements.append(sql.SQL("revoke insert on {} from {}").format(table, writer))
            statements.append(
                sql.SQL("grant insert ({}) on {} to {}").format(
                    sql.SQL(", ").join(sql.Identifier(name) for (name,) in columns), table, writer
                )
            )
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


# A salesperson's login (``liftoff deployment seller add``): lower-case letters, digits and
# ``_ . -``, starting with a letter; PostgreSQL keeps 63 bytes of a name.
SELLER_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,62}")
SELLER_CONNECTION_LIMIT = 5


def is_seller(conn: psycopg.Connection, settings: Settings, name: str) -> bool | None:
    """None: no such role; True: a seller (a login whose only membership is the entry
    writer, with no attribute beyond LOGIN and INHERIT); False: any other role."""
    found = conn.execute(
        "select r.rolcanlogin and not (r.rolsuper or r.rolcreatedb or r.rolcreaterole or r.rolreplication"
        " or r.rolbypassrls), array(select g.rolname::pg_catalog.text from pg_catalog.pg_auth_members m"
        " join pg_catalog.pg_roles g on g.oid = m.roleid where m.member = r.oid)"
        " from pg_catalog.pg_roles r where r.rolname = %s",
        (name,),
    ).fetchone()
    if found is None:
        return None
    plain, groups = found
    return bool(plain) and groups == [settings.entry_writer_role]


def _check_seller_name(settings: Settings, name: str) -> None:
    if not SELLER_NAME.fullmatch(name):
        raise Refused(
            f"seller name {name!r}: lower-case letters, digits, '_', '.', '-', starting with a letter,"
            " at most 63 characters"
        )
    ours = {
        settings.pipeline_role,
        settings.analyst_role,
        settings.entry_writer_role,
        READER_ROLE,
        RESTORER_ROLE,
    }
    if name in ours or name.startswith("pg_"):
        raise Refused(f"{name} is a role of the platform (or PostgreSQL's), not a seller's name")


def add_seller(
    conn: psycopg.Connection, settings: Settings, name: str, password: SecretStr, *, reset: bool = False
) -> bool:
    """Create the login ``name`` for a salesperson (True), or with ``reset`` give an existing
    seller a new password (False). Commits.

    A member of the entry writer role (inheriting its INSERT, nothing else; it may not
    ``set role`` to it), with the apps' limits. Any other existing role is refused: this
    command never touches a role it did not make. The password travels as a SCRAM verifier.
    """
    _check_seller_name(settings, name)
    if len(password.get_secret_value()) < 8:
        raise Refused("the password must have at least 8 characters")
    if (
        conn.execute(
            "select 1 from pg_catalog.pg_roles where rolname = %s", (settings.entry_writer_role,)
        ).fetchone()
        is None
    ):
        raise ConfigError(f"role {settings.entry_writer_role} does not exist: run `liftoff bootstrap` first")
    role = sql.Identifier(name)
    verifier = sql.Literal(password_verifier(conn, name, password))
    conn.commit()  # the transaction below is a real one, not a savepoint
    with conn.transaction():
        conn.execute("select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('liftoff.sellers'))")
        seller = is_seller(conn, settings, name)
        if seller is False:
            raise Refused(f"role {name} exists and is not a seller: choose another name")
        if seller and not reset:
            raise Refused(f"seller {name} exists already (--reset gives it a new password)")
        if seller:
            conn.execute(sql.SQL("alter role {} password {}").format(role, verifier))
            return False
        conn.execute(
            sql.SQL(
                "create role {} login password {} nosuperuser nocreatedb nocreaterole inherit"
                " connection limit {}"
            ).format(role, verifier, sql.Literal(SELLER_CONNECTION_LIMIT))
        )
        membership = "with inherit true, set false" if conn.info.server_version >= 160000 else ""
        conn.execute(
            sql.SQL("grant {} to {} {}").format(
                sql.Identifier(settings.entry_writer_role), role, sql.SQL(membership)
            )
        )
        for setting, value in APP_LIMITS.items():
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(role, sql.Identifier(setting), sql.Literal(value))
            )
    return True


def list_sellers(conn: psycopg.Connection, settings: Settings) -> list[str]:
    """The sellers' names (the entry writer's login members), sorted."""
    rows = conn.execute(
        "select r.rolname::pg_catalog.text from pg_catalog.pg_auth_members m"
        " join pg_catalog.pg_roles g on g.oid = m.roleid join pg_catalog.pg_roles r on r.oid = m.member"
        " where g.rolname = %s and r.rolcanlogin order by 1",
        (settings.entry_writer_role,),
    ).fetchall()
    return [name for (name,) in rows if is_seller(conn, settings, name)]


def remove_seller(conn: psycopg.Connection, settings: Settings, name: str) -> None:
    """Drop the seller ``name`` (its sales keep its name in ``entered_by``). Commits."""
    _check_seller_name(settings, name)
    conn.commit()
    with conn.transaction():
        conn.execute("select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('liftoff.sellers'))")
        seller = is_seller(conn, settings, name)
        if not seller:
            raise Refused(f"{name} is not a seller" + ("" if seller is None else " (another role)"))
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
