"""include/sources.yaml is validated with clear, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from liftoff.config import ConfigError, Settings, load_sources


def test_the_shipped_sources_file_is_valid() -> None:
    sources = load_sources()
    assert "crm" in sources
    assert sources["crm"].streams["sales"].contract == "sale"
    assert sources["crm"].manifest_path.is_file()
    entry = sources["entry"]  # the entry app's pushed source: no connector
    assert entry.is_pushed and entry.manifest is None and entry.ingest_mode("entry") == "push"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: {}", "sources"),
        (
            "sources:\n  crm:\n    manifest: airbyte/nope.yaml\n    config: {base_url_env: X}\n"
            "    streams: {sales: {contract: sale, cursor_field: u, primary_key: id}}",
            "does not exist",
        ),
        (
            "sources:\n  crm:\n    manifest: airbyte/source_liftoff_crm.yaml\n    config: {base_url_env: X}\n"
            "    streams: {sales: {contract: sale, cursor_field: u, primary_key: id, max_reject_ratio: 2}}",
            "max_reject_ratio",
        ),
        ("sources: [unclosed", "cannot read"),
        (
            "sources:\n  crm:\n    streams: {sales: {contract: sale, cursor_field: u, primary_key: id}}",
            "needs `connector` \\(a PyPI connector\\) or `manifest` and `config`",
        ),
        (
            "sources:\n  pos:\n    mode: stream\n"
            "    streams: {sales: {contract: sale, cursor_field: u, primary_key: id}}",
            "a stream source needs a `kafka:` block",
        ),
        (
            "sources:\n  pos:\n    mode: stream\n    kafka: {topic: t}\n"
            "    streams: {sales: {sync: full_refresh, contract: sale, primary_key: id}}",
            "a stream source's stream is incremental",
        ),
    ],
)
def test_bad_sources_file_gives_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_sources(path)
    assert "\n" not in str(info.value).strip() or message == "cannot read"


def test_sources_yaml_reads_the_same_by_libyaml_and_errors_show_the_line(tmp_path: Path, monkeypatch) -> None:
    import yaml

    from liftoff.config import get_settings, read_yaml

    used = []

    class Libyaml(yaml.CSafeLoader):  # PyYAML's wheel has libyaml
        def __init__(self, stream) -> None:
            used.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(yaml, "CSafeLoader", Libyaml)
    text = get_settings().sources_file.read_text()
    assert read_yaml(text) == yaml.safe_load(text)
    assert used == [text]
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  crm: {manifest: [a}\n")
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_sources(path)
    assert "crm: {manifest: [a}" in str(info.value) and "^" in str(info.value)  # the line, and where


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://KEY:SECRET@minio:9000/bucket", "http://KEY:***@minio:9000/bucket"),
        ("postgresql://owner:p%40ss@db:5432/liftoff", "postgresql://owner:***@db:5432/liftoff"),
        ("http://token@api.example/v1", "http://***@api.example/v1"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_urls_are_shown_without_their_secret(url: str, shown: str) -> None:
    from liftoff.config import redacted_url

    assert redacted_url(url) == shown


def test_the_entry_app_refuses_an_oversized_upload_before_reading_it() -> None:
    from liftoff.entry.bulk import MAX_UPLOAD_MB
    from liftoff.entry.launch import streamlit_command

    command = streamlit_command(8501)
    assert command[command.index("--server.maxUploadSize") + 1] == str(MAX_UPLOAD_MB)


def test_the_original_readme_env_file_gives_the_warehouse(tmp_path: Path, monkeypatch) -> None:
    """docker compose's .env, as the original README writes it (spaces around `=`)."""
    for name in ("LIFTOFF_WAREHOUSE_URL", "DB_HOST_PROD", "DB_PORT_PROD", "DB_NAME_PROD", "DB_USER_PROD"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DB_HOST_PROD = postgres\nDB_PORT_PROD = 5432\nDB_NAME_PROD = mydatabase\n"
        "DB_USER_PROD = user\nDB_PASS_PROD = p@ss/word\nPGADMIN_EMAIL = email_pgadmin\n"
    )
    settings = Settings(_env_file=env_file)
    assert (
        settings.warehouse_url.get_secret_value()
        == "postgresql://user:p%40ss%2Fword@postgres:5432/mydatabase"
    )
    assert "p%40ss" not in repr(settings), "the owner's password is never shown"
    monkeypatch.setenv("LIFTOFF_WAREHOUSE_URL", "postgresql://other@db:5432/x")
    assert Settings(_env_file=env_file).warehouse_url.get_secret_value() == "postgresql://other@db:5432/x", (
        "the explicit URL wins"
    )
