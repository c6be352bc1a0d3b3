"""Object stores for the raw archive: one interface, the same keys in every backend.

- ``MinioStore``: MinIO or any S3 API through the ``minio`` client (team deployment).
- ``LocalFolderStore``: a folder with the keys as relative paths (embedded default).

Writes are all-or-nothing in both: a failed upload leaves no partial object visible.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error
from minio.helpers import check_bucket_name
from minio.versioningconfig import ENABLED, VersioningConfig

from liftoff.config import first_line, redacted_url
from liftoff.errors import Transient

PART_SIZE = 16 * 1024 * 1024  # multipart above this; S3's minimum part is 5 MiB


class StoreError(Transient):
    """The object store failed or is unreachable; the message says which and why."""


class ObjectStore(Protocol):
    """What the archive needs from an object store."""

    def put_file(self, key: str, path: Path) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def read_chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]: ...
    def get_file(self, key: str, path: Path) -> None: ...
    def size(self, key: str) -> int: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> Iterator[str]: ...
    def delete(self, key: str) -> None: ...
    def move(self, source: str, target: str) -> None: ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the store's root (absolute paths, '..', empty parts)."""
    parts = key.split("/")
    if not key or any(part in {"", ".", ".."} for part in parts) or "\\" in key:
        raise ValueError(f"invalid object key {key!r}")
    return key


def batch_prefix(source: str, stream: str, day: date) -> str:
    """``raw/<source>/<stream>/dt=<day>/``: deterministic, so a rerun replaces the object."""
    return f"raw/{source}/{stream}/dt={day.isoformat()}/"


class LocalFolderStore:
    """A folder with the object keys as relative paths; writes are atomic (temp + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __str__(self) -> str:
        return f"folder {self.root}"

    def _path(self, key: str) -> Path:
        """The key's file; a key through a symbolic link (out of the store, or anywhere) is refused."""
        path = self.root / check_key(key)
        current = self.root
        for part in check_key(key).split("/"):
            current = current / part
            if current.is_symlink():
                raise StoreError(f"{self}: {key} goes through a symbolic link: refused")
        return path

    def _atomic_write(self, key: str, write) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path) -> None:
        def copy(handle) -> None:
            with path.open("rb") as source:
                shutil.copyfileobj(source, handle, 1 << 20)

        self._atomic_write(key, copy)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._atomic_write(key, lambda handle: handle.write(data))

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def read_chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while chunk := handle.read(size):
                yield chunk

    def get_file(self, key: str, path: Path) -> None:
        shutil.copyfile(self._path(key), path)

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        """Every regular file under ``prefix``; symbolic links are neither listed nor followed."""
        base = self.root / prefix if prefix else self.root
        if not base.is_dir() or base.is_symlink():
            return
        found = []
        for folder, _, names in os.walk(base, followlinks=False):
            for name in names:
                path = Path(folder) / name
                if not name.startswith(".upload-") and path.is_file() and not path.is_symlink():
                    found.append(path.relative_to(self.root).as_posix())
        yield from sorted(found)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def move(self, source: str, target: str) -> None:
        destination = self._path(target)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(source), destination)


class MinioStore:
    """A bucket on MinIO (or any S3 API); created when missing, with versioning on.

    Transient failures (connection errors, HTTP 5xx) are retried with exponential backoff
    by the HTTP pool; what still fails becomes a one-line StoreError.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60),
            retries=urllib3.Retry(
                total=retries,
                backoff_factor=backoff,
                status_forcelist=[500, 502, 503, 504],
                allowed_methods=None,
                raise_on_status=False,
            ),
        )
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, http_client=http
        )
        self.endpoint = endpoint
        self.bucket = bucket
        self._admin_login = (access_key, secret_key, secure)  # for ensure_user: never printed
        self._bucket_ready = False

    @classmethod
    def from_url(cls, url: str, **kwargs) -> MinioStore:
        """``http(s)://ACCESS_KEY:SECRET_KEY@host:port/bucket``."""
        parts = urlsplit(url)
        bucket = parts.path.strip("/")
        if parts.scheme not in {"http", "https"} or not parts.hostname or not bucket or not parts.username:
            raise StoreError(
                "MinIO URL must be http(s)://ACCESS_KEY:SECRET_KEY@host:port/bucket,"
                f" got {redacted_url(url)!r}"
            )
        try:
            check_bucket_name(bucket, strict=True)
        except ValueError:
            raise StoreError(
                f"invalid bucket name {bucket!r}: 3-63 lower-case letters, digits, dots, hyphens"
            ) from None
        endpoint = parts.netloc.rpartition("@")[2].removesuffix(":")  # the host as written ([IPv6] too)
        return cls(
            endpoint,
            unquote(parts.username),
            unquote(parts.password or ""),
            bucket,
            secure=parts.scheme == "https",
            **kwargs,
        )

    def __str__(self) -> str:
        return f"minio {self.endpoint}/{self.bucket}"

    def _call(self, action: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except S3Error as exc:
            raise StoreError(f"{self}: {action} failed: {exc.code}: {exc.message}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise StoreError(f"{self} is unreachable ({action}): {reason}") from exc

    def ensure_bucket(self) -> None:
        """The bucket, with versioning on: made so if it is not (by ``liftoff archive init``,
        as the archive's admin; the pipeline's user may only check it)."""
        if self._bucket_ready:
            return
        if not self._call("check bucket", self.client.bucket_exists, self.bucket):
            try:
                self._call("create bucket", self.client.make_bucket, self.bucket)
            except StoreError as exc:
                if "BucketAlreadyOwnedByYou" not in str(exc):
                    raise
        versioning = self._call("read versioning", self.client.get_bucket_versioning, self.bucket)
        if versioning.status != ENABLED:
            self._call(
                "enable versioning", self.client.set_bucket_versioning, self.bucket, VersioningConfig(ENABLED)
            )
        self._bucket_ready = True

    def pipeline_policy(self) -> dict:
        """What the pipeline's tasks may do in the bucket: read, list, write objects and put
        delete markers; never delete a version, nor switch versioning off (the archive's
        history is the system of record's)."""
        bucket = f"arn:aws:s3:::{self.bucket}"
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetBucketVersioning"],
                    "Resource": [bucket],
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    "Resource": [f"{bucket}/*"],
                },
                {  # MinIO lets s3:DeleteObject remove a version unless this is denied outright
                    "Effect": "Deny",
                    "Action": ["s3:DeleteObjectVersion", "s3:PutBucketVersioning"],
                    "Resource": [bucket, f"{bucket}/*"],
                },
            ],
        }

    def ensure_user(self, user: str, secret: str) -> None:
        """A MinIO user with :meth:`pipeline_policy` (this store's credentials: the admin's)."""
        from minio.credentials import StaticProvider
        from minio.error import MinioAdminException
        from minio.minioadmin import MinioAdmin

        access_key, secret_key, secure = self._admin_login
        admin = MinioAdmin(
            endpoint=self.endpoint, credentials=StaticProvider(access_key, secret_key), secure=secure
        )
        policy = f"{self.bucket}-pipeline"
        try:
            admin.user_add(user, secret)
            admin.policy_add(policy, policy=self.pipeline_policy())
            admin.policy_set(policy, user=user)
        except MinioAdminException as exc:
            raise StoreError(f"{self}: making the user {user} failed: {first_line(exc)}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreError(f"{self} is unreachable (make the user {user}): {exc}") from None

    def put_file(self, key: str, path: Path) -> None:
        self.ensure_bucket()
        self._call(
            f"upload {key}",
            self.client.fput_object,
            self.bucket,
            check_key(key),
            str(path),
            part_size=PART_SIZE,
        )

    def put_bytes(self, key: str, data: bytes) -> None:
        self.ensure_bucket()
        self._call(
            f"upload {key}", self.client.put_object, self.bucket, check_key(key), io.BytesIO(data), len(data)
        )

    def get_bytes(self, key: str) -> bytes:
        response = self._call(f"download {key}", self.client.get_object, self.bucket, check_key(key))
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def read_chunks(self, key: str, size: int = 1 << 20) -> Iterator[bytes]:
        response = self._call(f"download {key}", self.client.get_object, self.bucket, check_key(key))
        try:
            yield from response.stream(size)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreError(f"{self}: download {key} broke off: {exc}") from exc
        finally:
            response.close()
            response.release_conn()

    def get_file(self, key: str, path: Path) -> None:
        self._call(f"download {key}", self.client.fget_object, self.bucket, check_key(key), str(path))

    def size(self, key: str) -> int:
        return self._call(f"stat {key}", self.client.stat_object, self.bucket, check_key(key)).size

    def exists(self, key: str) -> bool:
        try:
            self.client.stat_object(self.bucket, check_key(key))
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchBucket", "NoSuchObject"}:
                return False
            raise StoreError(f"{self}: stat {key} failed: {exc.code}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreError(f"{self} is unreachable (stat {key}): {exc}") from exc
        return True

    def list(self, prefix: str) -> Iterator[str]:
        self.ensure_bucket()
        objects = self._call(
            f"list {prefix}", self.client.list_objects, self.bucket, prefix=prefix, recursive=True
        )
        try:
            for item in objects:
                yield item.object_name
        except S3Error as exc:
            raise StoreError(f"{self}: list {prefix} failed: {exc.code}") from exc

    def delete(self, key: str) -> None:
        self._call(f"delete {key}", self.client.remove_object, self.bucket, check_key(key))

    def move(self, source: str, target: str) -> None:
        self._call(
            f"copy {source}",
            self.client.copy_object,
            self.bucket,
            check_key(target),
            CopySource(self.bucket, check_key(source)),
        )
        self.delete(source)
