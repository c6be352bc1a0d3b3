"""Which object store the archive uses: the `minio` Airflow connection, ``LIFTOFF_MINIO_URL``, or a folder."""

from __future__ import annotations

from urllib.parse import urlsplit

from liftoff.archive.store import LocalFolderStore, MinioStore, ObjectStore
from liftoff.config import Settings, get_settings

DEFAULT_BUCKET = "liftoff-archive"


def store_from_settings(settings: Settings | None = None) -> ObjectStore:
    """``LIFTOFF_MINIO_URL`` (http://KEY:SECRET@host:port/bucket) if set, else the local archive folder."""
    settings = settings or get_settings()
    if settings.minio_url:
        return MinioStore.from_url(settings.minio_url)
    return LocalFolderStore(settings.archive_root)


def airflow_archive_store(conn_id: str = "minio") -> ObjectStore:
    """Inside a task: the ``minio`` connection if it is defined, else :func:`store_from_settings`.

    The connection: login/password are the access and secret keys; ``extra`` holds
    ``endpoint_url`` (else http://host:port) and ``bucket`` (default liftoff-archive).
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return store_from_settings()
    extra = conn.extra_dejson
    endpoint = urlsplit(extra.get("endpoint_url") or f"http://{conn.host}:{conn.port or 9000}")
    bucket = extra.get("bucket", DEFAULT_BUCKET)
    return MinioStore(
        endpoint.netloc, conn.login or "", conn.password or "", bucket, secure=endpoint.scheme == "https"
    )
