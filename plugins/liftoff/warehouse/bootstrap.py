"""The warehouse bootstrap: everything the pipeline needs and may not make itself.

Run with an owner's login (``liftoff bootstrap``): once per deployment, and on every start
of the embedded default (the whole platform on one machine, as the ``liftoff`` command runs it:
``liftoff run``, ``demo``, ``app``).

It makes the schemas (landing, audit, catalog, the dbt layers), the platform's own tables
(audit, catalog, the landing tables of pushed and streamed sources), and the roles with
their grants (``liftoff.warehouse.roles``). The pipeline then runs as the ``pipeline``
role. Table DDL lives here or in dbt (the layers); the connectors create the synced
landing tables. Running it again changes nothing; a lock keeps two runs from overlapping.
"""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql
from pydantic import SecretStr

from liftoff.config import LAYERS, ConfigError, Settings, get_settings, landing_schema, load_sources
from liftoff.ingest.landing_layout import pushed_table_ddl, streamed_table_ddl
from liftoff.warehouse.location import Warehouse
from liftoff.warehouse.roles import grant_roles
from liftoff_contracts import contract_columns, get_contract

AUDIT_DDL = """
create schema if not exists audit;

create table if not exists audit.batches (
    batch_id          text primary key,
    source            text not null,
    stream            text not null,
    interval_start    timestamptz not null,
    interval_end      timestamptz not null,
    landed            bigint not null default 0,
    accepted          bigint not null default 0,
    rejected          bigint not null default 0,
    checksum          text,
    contract          text not null,
    contract_version  text not null,
    status            text not null,
    run_id            text,
    archive_key       text,
    validated_at      timestamptz,
    archived_at       timestamptz,
    validate_seconds  double precision,
    constraint batches_conservation check (status = 'landed' or landed = accepted + rejected)
);
-- A batch whose landing can change while its run goes on (an app pushes rows, the stream's
-- preview lands today's slice): the gate records the rows it judged, and bronze takes only
-- those (a row committed after the gate waits for the next run of its day).
alter table audit.batches add column if not exists gated_ids boolean not null default false;
-- The newest cursor of the batch's accepted rows (null: none accepted, or a stream without a
-- cursor): what the data says about how fresh a source is (liftoff.validate.freshness).
alter table audit.batches add column if not exists newest_cursor timestamptz;
create table if not exists audit.gated (
    batch_id          text not null references audit.batches (batch_id) on delete cascade,
    airbyte_raw_id    text not null,
    primary key (batch_id, airbyte_raw_id)
);

create table if not exists audit.quarantine (
    batch_id          text not null references audit.batches (batch_id) on delete cascade,
    source            text not null,
    stream            text not null,
    airbyte_raw_id    text not null,
    row_data          jsonb not null,
    errors            jsonb not null,
    contract          text not null,
    contract_version  text not null,
    quarantined_at    timestamptz not null default now(),
    primary key (batch_id, airbyte_raw_id)
);
create index if not exists quarantine_raw_id on audit.quarantine (airbyte_raw_id);

-- Local mode's sync state per incremental stream: the cursor is where the next run
-- continues from (the furthest interval end synced); a rerun of an older day leaves it.
create table if not exists audit.sync_state (
    source               text not null,
    stream               text not null,
    cursor               timestamptz not null,
    last_interval_start  timestamptz not null,
    last_interval_end    timestamptz not null,
    last_rows            bigint not null,
    synced_at            timestamptz not null default now(),
    primary key (source, stream)
);

-- A PyPI connector's Airbyte STATE (its STATE messages, as `read --state` takes them) after
-- each committed run: a run reads from the state of the latest earlier interval, so a rerun
-- and a backfill read what the day's first run read (liftoff.ingest.connector_sync).
create table if not exists audit.connector_state (
    source          text not null,
    interval_start  timestamptz not null,
    state           jsonb not null,
    saved_at        timestamptz not null default now(),
    primary key (source, interval_start)
);

-- Schema changes a sync found (a field added, removed or retyped upstream), each once:
-- `liftoff sources changes` lists them.
create table if not exists audit.schema_changes (
    source          text not null,
    stream          text not null,
    field           text not null,
    change          text not null check (change in ('added', 'removed', 'retyped')),
    old_type        text,
    new_type        text,
    interval_start  timestamptz not null,
    detected_at     timestamptz not null default now(),
    alerted_at      timestamptz  -- when its alert went out (null: not yet; the next sync sends it)
);
alter table audit.schema_changes add column if not exists alerted_at timestamptz;
create unique index if not exists schema_changes_once
    on audit.schema_changes (source, stream, field, change, coalesce(new_type, ''));

-- The rows a local sync landed with no readable cursor, and the run (interval) that landed
-- them: they belong to its batch, where the gate quarantines them (liftoff.batch).
create table if not exists audit.landed_uncursored (
    source          text not null,
    stream          text not null,
    interval_start  timestamptz not null,
    airbyte_raw_id  text not null,
    primary key (source, stream, airbyte_raw_id)
);
create index if not exists landed_uncursored_batch
    on audit.landed_uncursored (source, stream, interval_start);

-- The days whose transform finished, and when: each run's `transformed` task writes its
-- day; analysts read it as gold.gold_refreshes (a dbt view), the dashboards' freshness.
create table if not exists audit.refreshes (
    run_day         date primary key,
    interval_start  timestamptz not null,
    interval_end    timestamptz not null,
    run_id          text not null,
    refreshed_at    timestamptz not null default now()
);
"""

# A landed cursor (text: upstream is untrusted) as a time, or null when it is none: what
# every batch query and bronze read it through, so one bad value never breaks a query.
# A time's text (ISO 8601, with or without an offset), or a Unix time as connectors such as
# Stripe's give it: 9 to 11 digits are seconds (1973 to 5138, a fraction allowed), 12 or 13
# milliseconds. The digits are matched first: PostgreSQL reads a bare run of digits as a date
# (`1736001205` as the year 173600, December 5th), a time no day's batch would ever hold.
# PostgreSQL 16 tells a valid input without an error (inlined SQL: fast); before, the cast
# is tried in PL/pgSQL.
CURSOR_TIME_16 = r"""
create or replace function audit.cursor_time(value text) returns timestamptz
language sql stable parallel safe as $fn$
    select case
        when value operator(pg_catalog.~) '^[0-9]{9,11}(\.[0-9]{1,6})?$'
            then pg_catalog.to_timestamp(value::pg_catalog.numeric)
        when value operator(pg_catalog.~) '^[0-9]{12,13}$'
            then pg_catalog.to_timestamp(value::pg_catalog.numeric / 1000)
        when pg_catalog.pg_input_is_valid(value, 'timestamptz') then value::pg_catalog.timestamptz
    end
$fn$
"""
CURSOR_TIME_15 = r"""
create or replace function audit.cursor_time(value text) returns timestamptz
language plpgsql stable parallel safe as $fn$
begin
    if value operator(pg_catalog.~) '^[0-9]{9,11}(\.[0-9]{1,6})?$' then
        return pg_catalog.to_timestamp(value::pg_catalog.numeric);
    elsif value operator(pg_catalog.~) '^[0-9]{12,13}$' then
        return pg_catalog.to_timestamp(value::pg_catalog.numeric / 1000);
    end if;
    return value::pg_catalog.timestamptz;
exception when others then
    return null;
end
$fn$
"""

# The files dropped in the archive's inbox (liftoff.archive.catalog): one row per object
# (an accepted file's key under files/, a refused one's in the inbox), every version kept.
CATALOG_DDL = """
create schema if not exists catalog;
create table if not exists catalog.objects (
    key           text primary key,
    inbox_key     text not null,
    kind          text,
    entity_id     text,
    size          bigint,
    content_type  text,
    sha256        text,
    status        text not null check (status in ('accepted', 'refused')),
    reason        text,
    cataloged_at  timestamptz not null default now()
);
"""


def bootstrap(
    conn: psycopg.Connection, sources: list[str] | None = None, settings: Settings | None = None
) -> None:
    """Make the schemas, the platform's tables and the roles of ``sources`` (default: all)."""
    settings = settings or get_settings()
    configured = load_sources(settings.sources_file)
    names = list(configured) if sources is None else [name for name in sources if name in configured]
    pushed = {name: list(configured[name].streams) for name in names if configured[name].is_pushed}
    streamed = {name: list(configured[name].streams) for name in names if configured[name].is_streamed}
    synced = [name for name in names if name not in pushed and name not in streamed]
    owned = ["audit", "catalog", *LAYERS, *map(landing_schema, names), conn.info.user]
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('liftoff.bootstrap'))")  # parallel starts
        check_schema_owners(conn, owned)  # before any DDL runs in one of them
        # A schema named after the owner, the owner's: the first place `"$user", public` looks
        # (psql, an Airbyte server's destination logged in as the owner), so no other role can
        # put a function or an operator there that the owner's session would call.
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(conn.info.user)))
        for name in names:
            conn.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(landing_schema(name)))
            )
        for name in [*pushed, *streamed]:
            for stream, config in configured[name].streams.items():
                fields = list(contract_columns(get_contract(config.contract)))
                schema = landing_schema(name)
                if name in pushed:
                    statements = pushed_table_ddl(schema, stream, fields, config.primary_key)
                else:
                    statements = streamed_table_ddl(schema, stream, fields)
                for statement in statements:
                    conn.execute(statement)
        conn.execute(AUDIT_DDL)
        conn.execute(CURSOR_TIME_16 if conn.info.server_version >= 160000 else CURSOR_TIME_15)
        conn.execute(CATALOG_DDL)
        # The dbt layers' schemas, made here: the first run's models of a layer build in
        # parallel and two `create schema if not exists` at once can collide in the catalog.
        for schema in LAYERS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        check_schema_owners(conn, owned)
        grant_roles(conn, settings, synced, pushed, streamed)


def check_schema_owners(conn: psycopg.Connection, schemas: list[str]) -> None:
    """Every schema the bootstrap makes is the owner's: one another role made first (the
    pipeline may create schemas, for its staging) could hold its code under our names."""
    foreign = conn.execute(
        "select n.nspname, r.rolname from pg_catalog.pg_namespace n"
        " join pg_catalog.pg_roles r on r.oid = n.nspowner"
        " where n.nspname = any(%s) and r.rolname <> current_user order by 1",
        (schemas,),
    ).fetchall()
    if foreign:
        listed = ", ".join(f"{schema} (owned by {owner})" for schema, owner in foreign)
        raise ConfigError(
            f"schemas the bootstrap makes were made by another role: {listed}; the owner must own"
            " them: check what they hold, drop them, and run `liftoff bootstrap` again"
        )


def bootstrap_for_pipeline(owner: Warehouse, settings: Settings | None = None) -> Warehouse:
    """Bootstrap as ``owner`` and return the pipeline's login (called when the embedded default starts).

    The pipeline gets ``LIFTOFF_PIPELINE_PASSWORD`` if set, else a fresh random password
    for this start: it lives only in this process and the Airflow it starts.
    """
    settings = settings or get_settings()
    password = settings.pipeline_password or SecretStr(secrets.token_urlsafe(24))
    settings = settings.model_copy(update={"pipeline_password": password})
    with owner.connect() as conn:
        bootstrap(conn, settings=settings)
    return owner.as_role(settings.pipeline_role, password)
