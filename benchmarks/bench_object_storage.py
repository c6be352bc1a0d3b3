"""Issue #27: Airflow's ``ObjectStoragePath`` (s3fs) against our ``MinioStore`` on the archive's I/O.

Both sides talk to the same real MinIO (one bucket, versioning on, as ``liftoff archive init``
leaves it) and do the same work on the same files, alternating which side goes first each round:

- ``upload``: a zstd JSONL file shaped like archive_1m's (1,000,000 rows, ~36 MB);
  ``MinioStore.put_file`` vs ``ObjectStoragePath("file://...").copy(s3 path)`` (``fs.put``).
- ``read``: that object read back fully in 1 MiB chunks; ``read_chunks`` vs
  ``path.open("rb")`` + ``read(1 MiB)``.
- ``list_delete``: list a prefix holding 200 small objects and delete each one;
  ``list`` + ``delete`` vs ``iterdir()`` + ``unlink()`` (setup untimed).
  Also ``list_delete_bulk``: the same listing, then one ``fs.rm`` of all 200 (DeleteObjects),
  against the same per-key MinioStore baseline (MinioStore has no bulk delete).
- ``move``: one small object moved (copy + delete); ``move`` vs ``path.move``.
- ``upload_raw``: the uncompressed JSONL (~323 MB), fewer rounds.

The ``ObjectStoragePath`` side is used as Airflow users do: an ``aws`` connection in
``AIRFLOW_CONN_LIFTOFF_BENCH_S3`` with ``endpoint_url``, and ``ObjectStoragePath("s3://...",
conn_id=...)``. The ``MinioStore`` side is built by ``MinioStore.from_url`` as
``liftoff.archive.location.store_from_url`` does.

Needs ``apache-airflow-providers-amazon[s3fs]``, which the project does not install (the
measurement kept ``MinioStore``: docs/benchmarks.md). Put it in a scratch folder, pinned (pip
does not resolve s3fs's botocore range alone in reasonable time), and append that folder to
``sys.path`` *after* the venv, so the venv's versions win:

    pip install --target /tmp/osp/site -c requirements.lock \
        'apache-airflow-providers-amazon[s3fs]==9.39.0' s3fs==2026.9.0 aiobotocore==3.10.0 \
        botocore==1.43.117 boto3==1.43.117
    python -c 'import sys, runpy; sys.path.append("/tmp/osp/site");
               runpy.run_module("benchmarks.bench_object_storage", run_name="__main__")'

Each per-operation line is subject=object_storage_path, baseline=minio_store, with min-max
spreads in its notes; ``run()`` returns the sum over the four small-file operations.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import statistics
import tempfile
import time
from pathlib import Path

import zstandard

from benchmarks.harness import Result
from liftoff.archive.store import MinioStore
from tests.minio_server import MinioServer, minio_binary

CONN_ID = "liftoff_bench_s3"
BUCKET = "bench-object-storage"
CHUNK = 1 << 20
SMALL_OBJECTS = 200
OPERATIONS = ("upload", "read", "list_delete", "move")


def port_in_range(low: int = 19400, high: int = 19500, taken: tuple[int, ...] = ()) -> int:
    for port in random.sample(range(low, high), high - low):
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high - 1}")


def make_files(folder: Path, rows: int) -> tuple[Path, Path]:
    """Airbyte-shaped JSONL (~323 bytes a row) and its zstd (level 3, as JSONL_ZSTD) copy."""
    rng = random.Random(27)
    raw, packed = folder / "batch.jsonl", folder / "batch.jsonl.zst"
    statuses = ("paid", "pending", "refunded", "shipped")
    with raw.open("w") as out:
        lines = []
        for i in range(rows):
            lines.append(
                json.dumps(
                    {
                        "_airbyte_raw_id": f"{rng.getrandbits(128):032x}",
                        "_airbyte_extracted_at": f"2026-12-04T10:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}"
                        f".{i % 1000:03d}000+00:00",
                        "_airbyte_meta": {"changes": [], "sync_id": 27},
                        "_airbyte_generation_id": 0,
                        "_airbyte_data": {
                            "id": i + 1,
                            "customer_id": rng.randrange(10_000, 12_000),
                            "amount": round(rng.uniform(1, 5000), 2),
                            "currency": "EUR",
                            "status": rng.choice(statuses),
                            "updated_at": f"2026-12-{i // 40_000 % 28 + 1:02d}T{i // 1700 % 24:02d}:00:00Z",
                        },
                    },
                    separators=(",", ":"),
                )
            )
            if len(lines) == 10_000:
                out.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            out.write("\n".join(lines) + "\n")
    with raw.open("rb") as source, packed.open("wb") as target:
        zstandard.ZstdCompressor(level=3).copy_stream(source, target)
    return raw, packed


class MinioSide:
    name = "minio_store"

    def __init__(self, store: MinioStore) -> None:
        self.store = store

    def upload(self, key: str, path: Path) -> None:
        self.store.put_file(key, path)

    def read(self, key: str) -> tuple[int, str]:
        digest, size = hashlib.sha256(), 0
        for chunk in self.store.read_chunks(key, CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()

    def list_delete(self, prefix: str) -> int:
        keys = list(self.store.list(prefix))
        for key in keys:
            self.store.delete(key)
        return len(keys)

    def move(self, source: str, target: str) -> None:
        self.store.move(source, target)


class PathSide:
    name = "object_storage_path"

    def __init__(self) -> None:
        from airflow.sdk import ObjectStoragePath

        self.path_class = ObjectStoragePath

    def path(self, key: str):
        return self.path_class(f"s3://{BUCKET}/{key}", conn_id=CONN_ID)

    def upload(self, key: str, path: Path) -> None:
        self.path_class(path.as_uri()).copy(self.path(key))

    def read(self, key: str) -> tuple[int, str]:
        digest, size = hashlib.sha256(), 0
        with self.path(key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def list_delete(self, prefix: str) -> int:
        paths = list(self.path(prefix.rstrip("/")).iterdir())
        for path in paths:
            path.unlink()
        return len(paths)

    def list_delete_bulk(self, prefix: str) -> int:
        """The same listing, then one ``fs.rm`` of them all (S3 DeleteObjects, 1000 a call)."""
        paths = list(self.path(prefix.rstrip("/")).iterdir())
        self.path(prefix.rstrip("/")).fs.rm([path.path for path in paths])
        return len(paths)

    def move(self, source: str, target: str) -> None:
        self.path(source).move(self.path(target))

    def forget_listings(self) -> None:
        """s3fs caches listings; the setup wrote behind its back, so a listing must be fresh."""
        self.path("x").fs.invalidate_cache()


def timed_call(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - started, value


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}s"


def measure(repeat: int = 5, raw_repeat: int = 2, rows: int = 1_000_000) -> list[Result]:
    binary = minio_binary()
    if binary is None:
        raise RuntimeError("MinIO is not built: run `make minio`")
    with tempfile.TemporaryDirectory(prefix="bench-osp-") as tmp_name:
        tmp = Path(tmp_name)
        raw, packed = make_files(tmp, rows)
        expected = (packed.stat().st_size, hashlib.sha256(packed.read_bytes()).hexdigest())
        minio = MinioServer(binary, tmp / "minio-data")
        minio.port = port_in_range()
        minio.console_port = port_in_range(taken=(minio.port,))
        minio.start()
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(
            {
                "conn_type": "aws",
                "login": minio.access_key,
                "password": minio.secret_key,
                "extra": {"endpoint_url": f"http://{minio.endpoint}", "region_name": "us-east-1"},
            }
        )
        try:
            store = MinioStore.from_url(minio.url(BUCKET))
            store.ensure_bucket()  # the archive's bucket: versioning on
            sides = {"minio_store": MinioSide(store), "object_storage_path": PathSide()}
            # warm-up, untimed: imports, connection lookup, the HTTP pools
            for side in sides.values():
                side.upload(f"{side.name}/warm/one", packed)
                assert side.read(f"{side.name}/warm/one") == expected, side.name
            times = {
                name: {op: [] for op in (*OPERATIONS, "list_delete_bulk", "upload_raw")} for name in sides
            }
            for round_ in range(repeat):
                order = list(sides.values()) if round_ % 2 else list(sides.values())[::-1]
                for side in order:
                    base, t = f"{side.name}/r{round_}", times[side.name]
                    seconds, _ = timed_call(side.upload, f"{base}/batch.jsonl.zst", packed)
                    t["upload"].append(seconds)
                    seconds, got = timed_call(side.read, f"{base}/batch.jsonl.zst")
                    assert got == expected, f"{side.name} read back {got[0]} bytes, not the upload"
                    t["read"].append(seconds)
                    for i in range(SMALL_OBJECTS):  # setup, untimed, by the same client for both
                        store.put_bytes(f"{base}/small/part-{i:04d}.json", b'{"n": %d}\n' % i)
                    if isinstance(side, PathSide):
                        side.forget_listings()
                    seconds, count = timed_call(side.list_delete, f"{base}/small/")
                    assert count == SMALL_OBJECTS, f"{side.name} listed {count}"
                    t["list_delete"].append(seconds)
                    if isinstance(side, PathSide):  # its bulk variant; the baseline stays per key
                        for i in range(SMALL_OBJECTS):
                            store.put_bytes(f"{base}/bulk/part-{i:04d}.json", b'{"n": %d}\n' % i)
                        side.forget_listings()
                        seconds, count = timed_call(side.list_delete_bulk, f"{base}/bulk/")
                        assert count == SMALL_OBJECTS and not list(store.list(f"{base}/bulk/"))
                        t["list_delete_bulk"].append(seconds)
                        times["minio_store"]["list_delete_bulk"] = times["minio_store"]["list_delete"]
                    store.put_bytes(f"{base}/staging/one.json", b'{"moved": true}\n')
                    seconds, _ = timed_call(side.move, f"{base}/staging/one.json", f"{base}/final/one.json")
                    assert store.exists(f"{base}/final/one.json") and not store.exists(
                        f"{base}/staging/one.json"
                    )
                    t["move"].append(seconds)
            for round_ in range(raw_repeat):
                order = list(sides.values()) if round_ % 2 else list(sides.values())[::-1]
                for side in order:
                    seconds, _ = timed_call(side.upload, f"{side.name}/raw{round_}/batch.jsonl", raw)
                    assert store.size(f"{side.name}/raw{round_}/batch.jsonl") == raw.stat().st_size
                    times[side.name]["upload_raw"].append(seconds)
        finally:
            minio.stop()
        sizes = {
            "upload": packed.stat().st_size,
            "read": packed.stat().st_size,
            "upload_raw": raw.stat().st_size,
        }
    results = []
    subject, baseline = times["object_storage_path"], times["minio_store"]
    for op in (*OPERATIONS, "list_delete_bulk", "upload_raw"):
        if not subject[op]:
            continue
        notes = {"subject_spread": spread(subject[op]), "baseline_spread": spread(baseline[op])}
        if op in sizes:
            notes["mb"] = round(sizes[op] / 1e6, 1)
            notes["subject_mb_per_s"] = round(sizes[op] / 1e6 / statistics.median(subject[op]), 1)
            notes["baseline_mb_per_s"] = round(sizes[op] / 1e6 / statistics.median(baseline[op]), 1)
        if op.startswith("list_delete"):
            notes["objects"] = SMALL_OBJECTS
        if op == "list_delete_bulk":
            notes["subject_is"] = "iterdir+fs.rm(all)"
            notes["baseline_is"] = "list+delete_each"
        results.append(
            Result(
                f"object_storage_{op}", "object_storage_path", "minio_store", subject[op], baseline[op], notes
            )
        )
    total_subject = [sum(r) for r in zip(*(subject[op] for op in OPERATIONS), strict=True)]
    total_baseline = [sum(r) for r in zip(*(baseline[op] for op in OPERATIONS), strict=True)]
    results.append(
        Result(
            "object_storage",
            "object_storage_path",
            "minio_store",
            total_subject,
            total_baseline,
            {
                "ops": "+".join(OPERATIONS),
                "subject_spread": spread(total_subject),
                "baseline_spread": spread(total_baseline),
                **{f"{r.name.removeprefix('object_storage_')}_ratio": f"{r.ratio:.2f}" for r in results},
            },
        )
    )
    return results


def run(repeat: int = 5, raw_repeat: int = 2) -> Result:
    """The sum over upload + read + list_delete + move (per-operation ratios in its notes)."""
    return measure(repeat, raw_repeat)[-1]


if __name__ == "__main__":
    import argparse

    from liftoff.config import disable_telemetry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--raw-repeat", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    disable_telemetry()
    for result in measure(args.repeat, args.raw_repeat, args.rows):
        print(result.line(), flush=True)
