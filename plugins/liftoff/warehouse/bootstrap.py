"""Warehouse bootstrap: schemas, audit tables, the apps' roles. Idempotent: safe before every run."""

from __future__ import annotations

import psycopg

from liftoff.config import Settings, get_settings, landing_schema, load_sources
from liftoff.ingest.push import create_landing_tables
from liftoff.warehouse.roles import grant_app_roles

# The dbt layers' schemas. Made here, under the bootstrap's lock, because the first run's
# models of one layer build in parallel and each would `create schema if not exists`: two at
# once can collide in PostgreSQL's catalog (duplicate key in pg_namespace), failing a model.
TRANSFORM_SCHEMAS = ("bronze", "silver", "gold")

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
"""


def bootstrap(conn: psycopg.Connection, sources: list[str], settings: Settings | None = None) -> None:
    """Create the landing schemas of ``sources`` (a pushed source's tables too), the audit
    tables and the apps' roles with their grants."""
    settings = settings or get_settings()
    configured = load_sources(settings.sources_file)
    pushed = {
        name: list(configured[name].streams)
        for name in sources
        if name in configured and configured[name].is_pushed
    }
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('liftoff.bootstrap'))")  # parallel runs
        for source in sources:
            conn.execute(f'create schema if not exists "{landing_schema(source)}"')
            if source in pushed:
                create_landing_tables(conn, source, configured[source])
        conn.execute(AUDIT_DDL)
        for schema in TRANSFORM_SCHEMAS:
            conn.execute(f'create schema if not exists "{schema}"')
        grant_app_roles(conn, settings, pushed)
