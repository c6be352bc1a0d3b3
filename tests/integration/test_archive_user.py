"""The pipeline's tasks reach the archive as a MinIO user of their own, made by `liftoff archive
init --pipeline-user` (the compose file's airflow-init, as MinIO's root): they read and write
the archive; they can neither delete a version nor switch versioning off, so no task (nor a
leaked task secret) can erase the system of record's history."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from minio.versioningconfig import SUSPENDED, VersioningConfig

from liftoff.archive.store import MinioStore, StoreError
from tests.minio_server import MinioServer

LIFTOFF = str(Path(sys.executable).with_name("liftoff"))


def archive_init(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`liftoff archive init --pipeline-user liftoff-pipeline`, as compose's airflow-init runs it."""
    return subprocess.run(
        [LIFTOFF, "archive", "init", "--pipeline-user", "liftoff-pipeline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_pipelines_user_writes_the_archive_but_never_erases_its_history(
    minio_server: MinioServer, tmp_path: Path
) -> None:
    bucket = f"archive-{uuid.uuid4().hex[:8]}"
    secret = uuid.uuid4().hex
    env = {
        **os.environ,
        "LIFTOFF_HOME": str(tmp_path),
        "LIFTOFF_ARCHIVE_URL": minio_server.url(bucket),  # the root's, as airflow-init has it
        "LIFTOFF_ARCHIVE_PIPELINE_SECRET": secret,
    }
    done = archive_init(env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert secret not in done.stdout + done.stderr
    again = subprocess.run(  # every `docker compose up` runs it: idempotent
        [LIFTOFF, "archive", "init", "--pipeline-user", "liftoff-pipeline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stdout + again.stderr

    task = MinioStore(minio_server.endpoint, "liftoff-pipeline", secret, bucket)
    task.put_bytes("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.zst", b"day 1")
    task.put_bytes("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.zst", b"day 1, rerun")
    assert task.get_bytes("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.zst") == b"day 1, rerun"
    task.delete("raw/crm/sales/dt=2026-11-20/part-0000.jsonl.zst")  # a delete marker only

    versions = list(task.client.list_objects(bucket, prefix="raw/", include_version=True, recursive=True))
    kept = [v for v in versions if not v.is_delete_marker]
    assert len(kept) == 2, "both versions kept"
    with pytest.raises(Exception, match="AccessDenied"):
        task.client.remove_object(bucket, kept[0].object_name, version_id=kept[0].version_id)
    with pytest.raises(Exception, match="AccessDenied"):
        task.client.set_bucket_versioning(bucket, VersioningConfig(SUSPENDED))
    with pytest.raises(StoreError, match="AccessDenied"):
        MinioStore(minio_server.endpoint, "liftoff-pipeline", secret, f"other-{bucket}").put_bytes("x", b"x")


def test_a_pipeline_user_needs_a_secret(minio_server: MinioServer, tmp_path: Path) -> None:
    env = {**os.environ, "LIFTOFF_HOME": str(tmp_path), "LIFTOFF_ARCHIVE_URL": minio_server.url("archive-x")}
    env.pop("LIFTOFF_ARCHIVE_PIPELINE_SECRET", None)
    done = archive_init(env)
    assert done.returncode != 0 and "LIFTOFF_ARCHIVE_PIPELINE_SECRET" in done.stderr + done.stdout
