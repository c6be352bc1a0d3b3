"""Restore an archived day into landing, as the pipeline: never with the owner's rights.

The landing table of a synced source is the pipeline's (the connector creates it), so the
pipeline could hang code on it (a trigger, a policy, a column type of its own) that runs
as whoever writes the table. The owner's session only checks the archive and, if the
warehouse lost the table, recreates it in the owner's schema; the rows are deleted and
inserted by the ``liftoff_restorer`` role become the pipeline (``set role``), in its own
session. The rows restored are the rows the database says it inserted.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from liftoff.archive.archiver import ArchiveError, read_manifest, sha256_of
from liftoff.archive.formats import format_of_key, read_lines
from liftoff.archive.store import ObjectStore
from liftoff.batch import Batch, Interval
from liftoff.config import landing_schema
from liftoff.warehouse.location import Warehouse
from liftoff.warehouse.roles import RESTORER_ROLE, connect_as_helper

RESTORE_CHUNK = 5000


def restore_day(
    owner: psycopg.Connection,
    target: Warehouse,
    store: ObjectStore,
    source: str,
    stream: str,
    day: date,
    *,
    landing_owner: str,
) -> int:
    """Load an archived day back into ``raw_<source>.<stream>``, replacing that day's landed rows.

    ``owner``: a bootstrapped owner's session on ``target`` (the owner's login). The object
    must match its manifest's sha256 and row count, or nothing is changed. The landing
    table is recreated if the warehouse lost it, owned by ``landing_owner`` (the pipeline
    role, which lands into it), and written as that role. Returns the rows inserted.
    """
    manifest = read_manifest(store, source, stream, day)
    batch = Batch(source, stream, manifest["cursor_field"], Interval.for_day(day))
    fmt = format_of_key(manifest["key"])
    with tempfile.TemporaryDirectory(prefix="liftoff-restore-") as tmp:
        path = Path(tmp) / "part"
        store.get_file(manifest["key"], path)
        if sha256_of(path) != manifest["sha256"]:
            raise ArchiveError(f"{manifest['key']} does not match its manifest's sha256: not restored")
        recreate_landing(owner, batch, manifest["columns"], landing_owner)
        table_owner = owner.execute(
            "select pg_catalog.pg_get_userbyid(relowner) from pg_catalog.pg_class"
            " where oid = pg_catalog.to_regclass(%s)",
            (f'"{landing_schema(source)}"."{stream}"',),
        ).fetchone()[0]
        owner.commit()
        if table_owner == owner.info.user:
            # The owner's own table (a pushed or streamed source's, a server destination's):
            # only its owner can hang code on it, so the owner's session writes it.
            restored = _load_checked(owner, batch, read_lines(fmt, path), manifest)
        elif table_owner == landing_owner:
            # The pipeline's (a local sync's): written as the pipeline, in a session whose
            # login (the restorer) has nothing else, whatever the table runs.
            with connect_as_helper(owner, target, RESTORER_ROLE) as conn:
                conn.execute(sql.SQL("set role {}").format(sql.Identifier(landing_owner)))
                restored = _load_checked(conn, batch, read_lines(fmt, path), manifest)
        else:
            raise ArchiveError(
                f"{landing_schema(source)}.{stream} is owned by {table_owner}, neither the owner nor"
                f" {landing_owner}: not restored (landing unchanged)"
            )
    return restored


def _load_checked(conn: psycopg.Connection, batch: Batch, lines, manifest: dict) -> int:
    """:func:`load_rows` in one transaction, committed only if the database took every row."""
    restored = load_rows(conn, batch, lines)
    if restored != manifest["rows"]:
        conn.rollback()
        raise ArchiveError(
            f"{manifest['key']}: the warehouse took {restored} rows, the manifest says"
            f" {manifest['rows']}: not restored (landing unchanged)"
        )
    conn.commit()
    return restored


def recreate_landing(conn: psycopg.Connection, batch: Batch, columns: list[str], landing_owner: str) -> None:
    """The owner makes the landing table again if the warehouse lost it (empty, the
    pipeline's). Commits. Nothing of the pipeline's is read or run here."""
    with conn.transaction():
        schema = landing_schema(batch.source)
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        # a lost warehouse's schema comes back with the pipeline's use of it (liftoff bootstrap's grant)
        conn.execute(
            sql.SQL("grant usage on schema {} to {}").format(
                sql.Identifier(schema), sql.Identifier(landing_owner)
            )
        )
        if batch.landing_exists(conn):
            return
        conn.execute(
            sql.SQL("create table {} ({})").format(
                batch.table,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_column_type(name)))
                    for name in columns
                ),
            )
        )
        conn.execute(sql.SQL("alter table {} owner to {}").format(batch.table, sql.Identifier(landing_owner)))
    conn.commit()


def load_rows(conn: psycopg.Connection, batch: Batch, lines) -> int:
    """Replace the batch's landed rows with the archived JSON ``lines``, in the open
    transaction; return the rows the database inserted (not the lines read)."""
    batch.delete_landed(conn)
    insert = sql.SQL("insert into {} select * from pg_catalog.json_populate_recordset(null::{}, %s)").format(
        batch.table, batch.table
    )
    inserted = 0
    chunk: list[str] = []
    with conn.cursor() as cur:
        for line in lines:
            chunk.append(line)
            if len(chunk) >= RESTORE_CHUNK:
                cur.execute(insert, ("[" + ",".join(chunk) + "]",))
                inserted, chunk = inserted + max(cur.rowcount, 0), []
        if chunk:
            cur.execute(insert, ("[" + ",".join(chunk) + "]",))
            inserted += max(cur.rowcount, 0)
    return inserted


def _column_type(name: str) -> str:
    """Column types of a landing table re-created from the archive (values stay as landed)."""
    return {
        "_airbyte_extracted_at": "timestamptz",
        "_airbyte_meta": "json",
        "_kafka_partition": "integer",
        "_kafka_offset": "bigint",
        "_kafka_timestamp": "timestamptz",
    }.get(name, "varchar")
