"""Where the archive is, always said explicitly: never a folder on a worker by surprise.

- ``LIFTOFF_ARCHIVE_URL``: ``http(s)://ACCESS_KEY:SECRET_KEY@host:port/bucket`` (MinIO or
  any S3 API) or ``file:///absolute/folder`` (the same keys in a folder).
- Inside Airflow (a task, the API server): the ``minio`` connection if it is defined, else
  ``LIFTOFF_ARCHIVE_URL``; with neither, the task fails at once with one line.
- The CLI (the embedded default): ``LIFTOFF_ARCHIVE_URL``, else the folder
  ``<LIFTOFF_HOME>/archive``; the embedded Airflow it starts gets that choice as its
  ``LIFTOFF_ARCHIVE_URL``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from liftoff.archive.store import LocalFolderStore, MinioStore, ObjectStore, StoreError
from liftoff.config import ConfigError, Settings, get_settings

DEFAULT_BUCKET = "liftoff-archive"
NOT_CONFIGURED = (
    "no archive is configured: define the `minio` Airflow connection or set LIFTOFF_ARCHIVE_URL"
    " (http://KEY:SECRET@host:9000/bucket, or file:///folder)"
)


def store_from_url(url: str) -> ObjectStore:
    """The store an archive URL names; a malformed URL is one line that hides its secret."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        folder = Path(unquote(parts.path))
        if parts.netloc or not folder.is_absolute():
            raise ConfigError("LIFTOFF_ARCHIVE_URL file URLs are file:///absolute/folder")
        return LocalFolderStore(folder)
    try:
        return MinioStore.from_url(url)
    except StoreError as exc:
        raise ConfigError(f"LIFTOFF_ARCHIVE_URL: {exc}") from None


def embedded_archive_url(settings: Settings | None = None) -> str:
    """The embedded default's archive: ``LIFTOFF_ARCHIVE_URL``, else ``<home>/archive``."""
    settings = settings or get_settings()
    if settings.archive_url:
        return settings.archive_url.get_secret_value()
    return (settings.home.resolve() / "archive").as_uri()


def configured_store(settings: Settings | None = None) -> ObjectStore:
    """The CLI's store (the embedded default): see :func:`embedded_archive_url`."""
    return store_from_url(embedded_archive_url(settings))


def airflow_archive_store(conn_id: str = "minio") -> ObjectStore:
    """Inside Airflow (a task, the API server's LiftOff app): the ``minio`` connection, else
    ``LIFTOFF_ARCHIVE_URL``, else ConfigError.

    The connection: login/password are the access and secret keys; ``extra`` holds
    ``endpoint_url`` (else http://host:port) and ``bucket`` (default liftoff-archive).
    """
    from airflow.sdk.exceptions import AirflowNotFoundException

    from liftoff.ingest.secrets import airflow_connection

    try:
        conn = airflow_connection(conn_id)
    except AirflowNotFoundException:
        url = get_settings().archive_url
        if url is None:
            raise ConfigError(NOT_CONFIGURED) from None
        return store_from_url(url.get_secret_value())
    extra = conn.extra_dejson
    host = (conn.host or "").strip("[]")
    host = f"[{host}]" if ":" in host else host  # an IPv6 address, bracketed once
    endpoint = urlsplit(extra.get("endpoint_url") or f"http://{host}:{conn.port or 9000}")
    bucket = extra.get("bucket", DEFAULT_BUCKET)
    return MinioStore(
        endpoint.netloc, conn.login or "", conn.password or "", bucket, secure=endpoint.scheme == "https"
    )
