"""Archive a landed batch, and restore one: the archive is the system of record.

A batch is written as compressed JSONL (whole landed rows, Airbyte's columns included)
at ``raw/<source>/<stream>/dt=<day>/part-0000.<ext>`` with a ``_manifest.json`` beside
it. The object is read back and checked (size, sha256) before the batch is marked
archived. Keys are deterministic, so a rerun replaces the object (versioning keeps the
old one).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from liftoff.archive.formats import DEFAULT_FORMAT, ArchiveFormat, format_of_key, read_lines
from liftoff.archive.store import ObjectStore, batch_prefix
from liftoff.batch import Batch, Interval

MANIFEST = "_manifest.json"
RESTORE_CHUNK = 5000


class ArchiveError(RuntimeError):
    """The archive does not hold what it should; the message says what differs."""


@dataclass(frozen=True)
class ArchivedBatch:
    key: str
    manifest_key: str
    rows: int
    size: int
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def archive_batch(
    conn: psycopg.Connection,
    batch: Batch,
    store: ObjectStore,
    *,
    run_id: str | None = None,
    fmt: ArchiveFormat = DEFAULT_FORMAT,
) -> ArchivedBatch:
    """Write the batch's landed rows to ``store``, check them back, mark the batch archived."""
    prefix = batch_prefix(batch.source, batch.stream, batch.interval.day)
    key = f"{prefix}part-0000.{fmt.extension}"
    audit = conn.execute(
        "select contract, contract_version from audit.batches where batch_id = %s", (batch.batch_id,)
    ).fetchone()
    contract, version = audit if audit else (None, None)
    rows = 0
    with tempfile.TemporaryDirectory(prefix="liftoff-archive-") as tmp:
        path = Path(tmp) / "part"
        with conn.transaction(), fmt.open_write(path) as out:
            for chunk in batch.iter_json_chunks(conn, data_only=False):
                out.write("".join(row + "\n" for _, row in chunk).encode())
                rows += len(chunk)
        size, sha = path.stat().st_size, _sha256(path)
        store.put_file(key, path)
        check = Path(tmp) / "check"
        store.get_file(key, check)
        if check.stat().st_size != size or _sha256(check) != sha:
            raise ArchiveError(f"archived object {key} in {store} does not match what was written")
    for stale in store.list(prefix):  # a part in another format from an earlier run
        if stale != key and stale.rsplit("/", 1)[-1].startswith("part-"):
            store.delete(stale)
    manifest = {
        "batch_id": batch.batch_id,
        "source": batch.source,
        "stream": batch.stream,
        "interval_start": batch.interval.start.isoformat(),
        "interval_end": batch.interval.end.isoformat(),
        "cursor_field": batch.cursor_field,
        "columns": batch.data_columns(conn) + batch.bookkeeping_columns(conn),
        "rows": rows,
        "key": key,
        "size": size,
        "sha256": sha,
        "format": fmt.name,
        "contract": contract,
        "contract_version": version,
        "run_id": run_id,
    }
    store.put_bytes(prefix + MANIFEST, json.dumps(manifest, indent=2).encode())
    conn.execute(
        "update audit.batches set archive_key = %s, archived_at = now(),"
        " status = case when status = 'validated' then 'archived' else status end where batch_id = %s",
        (key, batch.batch_id),
    )
    conn.commit()
    return ArchivedBatch(key, prefix + MANIFEST, rows, size, sha)


def read_manifest(store: ObjectStore, source: str, stream: str, day: date) -> dict:
    key = batch_prefix(source, stream, day) + MANIFEST
    if not store.exists(key):
        raise ArchiveError(f"no archive for {source}.{stream} on {day} in {store} ({key} is missing)")
    return json.loads(store.get_bytes(key))


def restore_batch(
    conn: psycopg.Connection,
    store: ObjectStore,
    source: str,
    stream: str,
    day: date,
    *,
    landing_owner: str | None = None,
) -> int:
    """Load an archived day back into ``raw_<source>.<stream>``, replacing that day's landed rows.

    The object must match its manifest's sha256 and row count, or nothing is changed.
    Creates the landing table if the warehouse lost it, owned by ``landing_owner`` (the
    pipeline role, which lands into it). Returns the rows restored.
    """
    manifest = read_manifest(store, source, stream, day)
    batch = Batch(source, stream, manifest["cursor_field"], Interval.for_day(day))
    fmt = format_of_key(manifest["key"])
    with tempfile.TemporaryDirectory(prefix="liftoff-restore-") as tmp:
        path = Path(tmp) / "part"
        store.get_file(manifest["key"], path)
        if _sha256(path) != manifest["sha256"]:
            raise ArchiveError(f"{manifest['key']} does not match its manifest's sha256: not restored")
        restored = 0
        with conn.transaction():
            columns = [sql.Identifier(c) for c in manifest["columns"]]
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(f"raw_{source}")))
            lost = not batch.landing_exists(conn)
            conn.execute(
                sql.SQL("create table if not exists {} ({})").format(
                    batch.table,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(column, sql.SQL(_column_type(name)))
                        for column, name in zip(columns, manifest["columns"], strict=True)
                    ),
                )
            )
            if lost and landing_owner:
                conn.execute(
                    sql.SQL("alter table {} owner to {}").format(batch.table, sql.Identifier(landing_owner))
                )
            batch.delete_landed(conn)
            insert = sql.SQL("insert into {} select * from json_populate_recordset(null::{}, %s)").format(
                batch.table, batch.table
            )
            chunk: list[str] = []
            for line in read_lines(fmt, path):
                chunk.append(line)
                if len(chunk) >= RESTORE_CHUNK:
                    conn.execute(insert, ("[" + ",".join(chunk) + "]",))
                    restored, chunk = restored + len(chunk), []
            if chunk:
                conn.execute(insert, ("[" + ",".join(chunk) + "]",))
                restored += len(chunk)
            if restored != manifest["rows"]:
                raise ArchiveError(
                    f"{manifest['key']} holds {restored} rows, its manifest says {manifest['rows']}"
                )
    return restored


def _column_type(name: str) -> str:
    """Column types of a landing table re-created from the archive (values stay as landed)."""
    return {
        "_airbyte_extracted_at": "timestamptz",
        "_airbyte_meta": "json",
        "_kafka_partition": "integer",
        "_kafka_offset": "bigint",
        "_kafka_timestamp": "timestamptz",
    }.get(name, "varchar")
