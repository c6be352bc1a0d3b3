"""The archive's location is explicit: no silent fallback to a folder on a worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liftoff.archive.location import (
    NOT_CONFIGURED,
    airflow_archive_store,
    configured_store,
    embedded_archive_url,
    store_from_url,
)
from liftoff.archive.store import LocalFolderStore, MinioStore
from liftoff.config import ConfigError, Settings, get_settings


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AIRFLOW_CONN_MINIO", raising=False)
    monkeypatch.delenv("LIFTOFF_ARCHIVE_URL", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_a_task_without_the_minio_connection_or_an_archive_url_fails_in_one_line(settings_env) -> None:
    with pytest.raises(ConfigError) as info:
        airflow_archive_store()
    assert str(info.value) == NOT_CONFIGURED and "\n" not in NOT_CONFIGURED


def test_a_task_takes_the_archive_url_when_there_is_no_connection(settings_env, tmp_path: Path) -> None:
    settings_env.setenv("LIFTOFF_ARCHIVE_URL", (tmp_path / "a").as_uri())
    get_settings.cache_clear()
    store = airflow_archive_store()
    assert isinstance(store, LocalFolderStore) and store.root == tmp_path / "a"


def test_a_task_prefers_the_minio_connection(settings_env) -> None:
    settings_env.setenv("AIRFLOW_CONN_MINIO", "aws://key:secret@minio:9000/?bucket=raw-archive")
    store = airflow_archive_store()
    assert isinstance(store, MinioStore) and store.bucket == "raw-archive"


def test_the_embedded_default_is_the_home_folder_said_explicitly(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    assert embedded_archive_url(settings) == (tmp_path / "home" / "archive").as_uri()
    assert configured_store(settings).root == tmp_path / "home" / "archive"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://host/folder", "file:///absolute/folder"),
        ("ftp://k:s3cret@h/bucket", "must be http"),
        ("http://k:s3cret@h:9000/b", "invalid bucket name"),
    ],
)
def test_a_bad_archive_url_is_one_line_without_its_secret(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        store_from_url(url)
    assert "\n" not in str(info.value) and "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("http://k:s@MinIO.internal:9000/b-1", "MinIO.internal:9000"),
        ("https://k:s@[::1]:9000/b-1", "[::1]:9000"),
        ("http://k:s@[fd00::5]/b-1", "[fd00::5]"),
        ("http://k:s@host:/b-1", "host"),
    ],
)
def test_the_archive_url_keeps_its_host_as_written(url: str, endpoint: str) -> None:
    store = store_from_url(url)
    assert isinstance(store, MinioStore) and store.endpoint == endpoint and store.bucket == "b-1"


@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_the_minio_connection_takes_an_ipv6_host(settings_env, host: str) -> None:
    connection = {"conn_type": "aws", "host": host, "port": 9000, "login": "k", "password": "s"}
    settings_env.setenv("AIRFLOW_CONN_MINIO", json.dumps(connection))
    assert airflow_archive_store().endpoint == "[::1]:9000"
