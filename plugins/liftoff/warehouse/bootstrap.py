"""Warehouse bootstrap: schemas and audit tables. Idempotent: safe to run before every run."""

from __future__ import annotations

import psycopg

from liftoff.config import landing_schema

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


def bootstrap(conn: psycopg.Connection, sources: list[str]) -> None:
    """Create the landing schemas of ``sources`` and the audit tables."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('liftoff.bootstrap'))")  # parallel runs
        for source in sources:
            conn.execute(f'create schema if not exists "{landing_schema(source)}"')
        conn.execute(AUDIT_DDL)
