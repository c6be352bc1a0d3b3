"""Archive a landed batch (``liftoff.archive.restore`` brings one back): the archive is the
system of record.

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

from liftoff.archive.formats import DEFAULT_FORMAT, ArchiveFormat
from liftoff.archive.store import ObjectStore, batch_prefix
from liftoff.batch import Batch
from liftoff.config import ConfigError
from liftoff.errors import Transient

MANIFEST = "_manifest.json"


class ArchiveError(Transient):
    """The archive does not hold what it should; the message says what differs."""


class SmallerThanArchived(ConfigError):
    """A rerun's batch has fewer rows than the day's archived part: the archive is kept."""


@dataclass(frozen=True)
class ArchivedBatch:
    key: str
    manifest_key: str
    rows: int
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
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
    replace_smaller: bool = False,
) -> ArchivedBatch:
    """Write the batch's landed rows to ``store``, check them back, mark the batch archived.

    The archive is the system of record: the part of a batch whose records never leave
    their day (a stream's messages, an app's pushed rows) is never replaced by one with
    fewer rows (a stream past its retention, rows lost) unless ``replace_smaller``. A
    synced source's day may shrink by right (a record updated since moves to its new day,
    a snapshot drops a delisted product): versioning keeps its old part.
    """
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
        if batch.records_gated and not replace_smaller:
            refuse_shrinking(store, batch, rows)
        size, sha = path.stat().st_size, sha256_of(path)
        store.put_file(key, path)
        check = Path(tmp) / "check"
        store.get_file(key, check)
        if check.stat().st_size != size or sha256_of(check) != sha:
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


def refuse_shrinking(store: ObjectStore, batch: Batch, rows: int) -> None:
    """Raise :class:`SmallerThanArchived` if the day's archived part holds more than ``rows``."""
    key = batch_prefix(batch.source, batch.stream, batch.interval.day) + MANIFEST
    if not store.exists(key):
        return
    archived = json.loads(store.get_bytes(key)).get("rows", 0)
    if archived > rows:
        raise SmallerThanArchived(
            f"{batch.batch_id}: the archive holds {archived} rows of {batch.interval.day}, this run landed"
            f" {rows}: the archive is kept (if the source really lost them: liftoff run --date"
            f" {batch.interval.day} --replace-smaller-archive; to rebuild from the archive: docs/runbook.md)"
        )


def read_manifest(store: ObjectStore, source: str, stream: str, day: date) -> dict:
    key = batch_prefix(source, stream, day) + MANIFEST
    if not store.exists(key):
        raise ArchiveError(f"no archive for {source}.{stream} on {day} in {store} ({key} is missing)")
    return json.loads(store.get_bytes(key))
