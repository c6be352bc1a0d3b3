"""Archive throughput for a 1,000,000-row batch into a real MinIO: formats compared, with a baseline.

Subject: `archive_batch` end to end (PostgreSQL renders the rows, compress, upload, read
back and check) for JSONL+gzip and JSONL+zstd; Parquet (zstd) is measured the same way
for comparison. Baseline in the same run: a plain `put_object` of the same rows already
serialised (uncompressed JSONL), i.e. just moving the bytes. MB/s counts the raw JSONL.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.bench_validation import BATCH, fill
from benchmarks.harness import Result, pg_server, scratch_database
from liftoff.archive.archiver import archive_batch
from liftoff.archive.formats import JSONL_GZIP, JSONL_ZSTD
from liftoff.archive.store import MinioStore
from tests.minio_server import MinioServer, minio_binary


def serialise(conn, path: Path) -> int:
    rows = 0
    with conn.transaction(), path.open("wb") as out:
        for chunk in BATCH.iter_json_chunks(conn, data_only=False):
            out.write("".join(row + "\n" for _, row in chunk).encode())
            rows += len(chunk)
    return rows


def parquet_archive(conn, store: MinioStore, tmp: Path) -> tuple[float, int]:
    import pyarrow.json as pa_json
    import pyarrow.parquet as pq

    started = time.perf_counter()
    jsonl, target = tmp / "parquet-src.jsonl", tmp / "part.parquet"
    serialise(conn, jsonl)
    table = pa_json.read_json(jsonl)
    # Parquet cannot store Airbyte's `_airbyte_meta` when it is {} (an empty struct): dropped,
    # which flatters Parquet a little. JSONL has no such limits; that is why it archives raw data.
    table = table.drop_columns(
        [f.name for f in table.schema if f.type.num_fields == 0 and str(f.type).startswith("struct")]
    )
    pq.write_table(table, target, compression="zstd")
    store.put_file("bench/part-0000.parquet", target)
    store.get_file("bench/part-0000.parquet", tmp / "parquet-check")
    return time.perf_counter() - started, target.stat().st_size


def run(rows: int = 1_000_000, repeat: int = 2) -> Result:
    binary = minio_binary()
    if binary is None:
        raise RuntimeError("MinIO is not built: run `make minio`")
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        pg_server(Path(tmp_name)) as server,
        scratch_database(server) as target,
    ):
        tmp = Path(tmp_name)
        fill(target, rows)
        minio = MinioServer(binary, tmp / "minio-data").start()
        try:
            store = MinioStore.from_url(minio.url("bench-archive"))
            with target.connect() as conn:
                raw = tmp / "raw.jsonl"
                serialise(conn, raw)
                raw_mb = raw.stat().st_size / 1e6
                baseline, timings, sizes = [], {JSONL_GZIP.name: [], JSONL_ZSTD.name: []}, {}
                for _ in range(repeat):
                    started = time.perf_counter()
                    store.put_file("bench/raw.jsonl", raw)
                    baseline.append(time.perf_counter() - started)
                    for fmt in (JSONL_ZSTD, JSONL_GZIP):
                        started = time.perf_counter()
                        archived = archive_batch(conn, BATCH, store, fmt=fmt)
                        timings[fmt.name].append(time.perf_counter() - started)
                        sizes[fmt.name] = archived.size
                parquet_seconds, sizes["parquet+zstd"] = parquet_archive(conn, store, tmp)
        finally:
            minio.stop()
    best = {name: min(values) for name, values in timings.items()} | {"parquet+zstd": parquet_seconds}
    notes = {
        "rows": rows,
        "raw_jsonl_mb": round(raw_mb, 1),
        "put_object_mb_per_s": round(raw_mb / min(baseline), 1),
        **{f"{name}_mb_per_s": round(raw_mb / seconds, 1) for name, seconds in best.items()},
        **{f"{name}_rows_per_s": round(rows / seconds) for name, seconds in best.items()},
        **{f"{name}_size_mb": round(size / 1e6, 1) for name, size in sizes.items()},
    }
    return Result(
        "archive_1m", "archive_jsonl_zstd", "put_object_raw_jsonl", timings[JSONL_ZSTD.name], baseline, notes
    )
