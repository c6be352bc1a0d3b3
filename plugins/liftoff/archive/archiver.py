"""Archive a landed batch: compressed JSONL plus a manifest, read back and checked."""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from liftoff.archive.store import ObjectStore, batch_prefix
from liftoff.batch import Batch


class ArchiveError(RuntimeError):
    """The archived object does not match what was written."""


@dataclass(frozen=True)
class ArchivedBatch:
    key: str
    manifest_key: str
    rows: int
    size: int
    sha256: str


def archive_batch(
    conn: psycopg.Connection, batch: Batch, store: ObjectStore, *, run_id: str | None = None
) -> ArchivedBatch:
    """Write the batch's landed rows (Airbyte columns included, so restore is exact)."""
    prefix = batch_prefix(batch.source, batch.stream, batch.interval.day)
    key = prefix + "part-0000.jsonl.gz"
    manifest_key = prefix + "_manifest.json"
    rows = 0
    with tempfile.TemporaryDirectory(prefix="liftoff-archive-") as tmp:
        path = Path(tmp) / "part.jsonl.gz"
        # mtime=0: the same rows give the same bytes
        with conn.transaction(), gzip.GzipFile(path, "wb", mtime=0) as out:
            for chunk in batch.iter_json_chunks(conn, data_only=False):
                out.write("".join(row + "\n" for _, row in chunk).encode())
                rows += len(chunk)
        data_sha = hashlib.sha256(path.read_bytes()).hexdigest()
        size = path.stat().st_size
        store.put_file(key, path)
    if store.size(key) != size or hashlib.sha256(store.get_bytes(key)).hexdigest() != data_sha:
        raise ArchiveError(f"archived object {key} does not match what was written")
    manifest = {
        "batch_id": batch.batch_id,
        "source": batch.source,
        "stream": batch.stream,
        "interval_start": batch.interval.start.isoformat(),
        "interval_end": batch.interval.end.isoformat(),
        "rows": rows,
        "key": key,
        "size": size,
        "sha256": data_sha,
        "run_id": run_id,
        "format": "jsonl+gzip",
    }
    store.put_bytes(manifest_key, json.dumps(manifest, indent=2).encode())
    conn.execute(
        "update audit.batches set archive_key = %s, archived_at = now(),"
        " status = case when status = 'validated' then 'archived' else status end where batch_id = %s",
        (key, batch.batch_id),
    )
    conn.commit()
    return ArchivedBatch(key, manifest_key, rows, size, data_sha)
