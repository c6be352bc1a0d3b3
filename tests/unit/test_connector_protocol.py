"""The connector runner's pieces that need no connector: pins, secrets, state, schema changes."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import date
from pathlib import Path

import pytest

from liftoff.batch import Interval
from liftoff.config import ConfigError, Settings, SourceConfig
from liftoff.ingest.cdk_runner import StreamWriter, cell
from liftoff.ingest.connector_sync import SchemaChange, StateKeeper, runtime_config, schema_changes
from liftoff.ingest.connectors import ConnectorPackage, require_installed
from liftoff.ingest.protocol import Connector, ConnectorConfigError, ConnectorFailed, Masker, secret_paths

SPEC = {
    "connectionSpecification": {
        "properties": {
            "bucket": {"type": "string"},
            "aws_secret_access_key": {"type": "string", "airbyte_secret": True},
            "credentials": {
                "oneOf": [
                    {"properties": {"access_token": {"type": "string", "airbyte_secret": True}}},
                    {"properties": {"client_secret": {"type": "string", "airbyte_secret": True}}},
                ]
            },
        }
    }
}


def test_a_connector_is_a_pinned_airbyte_source() -> None:
    package = ConnectorPackage.parse("airbyte-source-stripe==5.14.1")
    assert (package.name, package.version, package.command) == (
        "airbyte-source-stripe",
        "5.14.1",
        "source-stripe",
    )
    for bad in (
        "airbyte-source-stripe",
        "airbyte-source-stripe>=5",
        "requests==2.0",
        "airbyte-source-x==1; rm",
    ):
        with pytest.raises(ConfigError, match="airbyte-source-NAME==VERSION"):
            ConnectorPackage.parse(bad)


def test_a_missing_connector_names_the_command_that_installs_it(tmp_path: Path) -> None:
    package = ConnectorPackage.parse("airbyte-source-stripe==5.14.1")
    with pytest.raises(ConfigError, match=r"not installed .*run `liftoff sources install shop`"):
        require_installed(package, Settings(connectors_dir=tmp_path), "shop")


def test_secret_paths_follow_nested_objects_and_each_branch() -> None:
    assert secret_paths(SPEC) == [
        "aws_secret_access_key",
        "credentials.access_token",
        "credentials.client_secret",
    ]


def test_the_masker_hides_every_secret_value() -> None:
    config = {"aws_secret_access_key": "abc123secret", "credentials": {"access_token": "tok-xyz"}}
    mask = Masker.of(config, secret_paths(SPEC))
    assert mask("denied for abc123secret (token tok-xyz)") == "denied for *** (token ***)"


def test_runtime_config_reads_secrets_from_their_variables_and_the_start_date() -> None:
    source = SourceConfig.model_validate(
        {
            "connector": {
                "package": "airbyte-source-hubspot==5.7.0",
                "config": {"credentials": {"credentials_title": "Private App Credentials"}},
                "secrets": {"credentials.access_token": "HUBSPOT_TOKEN"},
                "start_date_key": "start_date",
            },
            "streams": {"deals": {"contract": "sale", "cursor_field": "updatedat", "primary_key": "id"}},
        }
    )
    interval = Interval.for_day(date(2026, 11, 20))
    config = runtime_config("hubspot", source, interval, env={"HUBSPOT_TOKEN": "pat-1"})
    assert config == {
        "credentials": {"credentials_title": "Private App Credentials", "access_token": "pat-1"},
        "start_date": "2026-11-20T00:00:00Z",
    }
    assert "access_token" not in source.connector.config["credentials"], "the entry is never changed"
    with pytest.raises(ConfigError, match="HUBSPOT_TOKEN is not set") as raised:
        runtime_config("hubspot", source, interval, env={})
    assert "pat-1" not in str(raised.value)


def test_state_keeps_the_latest_message_of_each_stream_or_the_global_one() -> None:
    keeper = StateKeeper()
    assert keeper.messages() is None
    for n in (1, 2):
        for name in ("a", "b"):
            keeper.add(
                {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": name}, "stream_state": {"n": n}},
                    "sourceStats": {"recordCount": 1.0},
                }
            )
    assert keeper.messages() == [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"n": 2}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "b"}, "stream_state": {"n": 2}}},
    ]
    keeper.add({"type": "GLOBAL", "global": {"shared_state": {"lsn": 9}}})
    assert keeper.messages() == [{"type": "GLOBAL", "global": {"shared_state": {"lsn": 9}}}]


def test_schema_changes_added_removed_retyped_and_a_rename_as_both() -> None:
    landed = {"id": "bigint", "rep": "character varying", "note": "bigint", "at": "timestamp with time zone"}
    discovered = {
        "properties": {
            "id": {"type": "integer"},
            "seller": {"type": ["null", "string"]},  # rep renamed
            "note": {"type": "string"},  # retyped
            "at": {"type": "string", "format": "date-time"},  # unchanged
        }
    }
    changes = schema_changes("orders", discovered, landed, {"id": True, "rep": True, "lines": True})
    assert set(changes) == {
        SchemaChange("orders", "seller", "added", new_type="varchar"),
        SchemaChange("orders", "rep", "removed", old_type="character varying"),
        SchemaChange("orders", "note", "retyped", "bigint", "varchar"),
        SchemaChange("orders", "lines", "removed"),  # the contract needs it, the source never sent it
    }
    assert schema_changes("orders", discovered, {}, {"id": True}) == [], "the first sync changes nothing"


def test_a_retyped_value_lands_null_with_its_reason_instead_of_failing_the_copy() -> None:
    assert cell("call back", False, "bigint") == (
        None,
        "'call back' is no bigint value (the field's type changed upstream?)",
    )
    assert cell(12, False, "bigint") == ("12", None)
    assert cell("12", False, "bigint") == ("12", None)
    assert cell(1.5, False, "numeric(38,9)") == ("1.5", None)
    assert cell(True, False, "numeric(38,9)")[0] is None
    assert cell("2026-11-20T10:00:00+00:00", False, "timestamptz") == ("2026-11-20T10:00:00+00:00", None)
    assert cell("yesterday", False, "timestamptz")[0] is None
    assert cell({"a": 1}, True, None) == ('{"a": 1}', None)


class _FakeConn:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, statement, *args):
        self.statements.append(statement.as_string(None) if hasattr(statement, "as_string") else statement)


def test_staged_columns_keep_the_landed_types() -> None:
    conn = _FakeConn()
    writer = StreamWriter(
        conn,
        "staging",
        "orders",
        {"properties": {"note": {"type": "string"}}},
        landed_types={"note": "bigint"},
    )
    assert '"note" bigint' in conn.statements[0]
    writer.add({"note": "call back"}, 0)
    assert writer.nulled == 1 and writer.rows[0][0] is None


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "source-fake"
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_config_error_fails_at_once_and_other_errors_are_transient_all_masked(tmp_path: Path) -> None:
    body = (
        "import json, sys\n"
        "config = json.load(open(sys.argv[sys.argv.index('--config') + 1]))\n"
        "kind = config['kind']\n"
        "print(json.dumps({'type': 'LOG', 'log': {'level': 'ERROR', 'message': 'using ' + config['key']}}))\n"
        "print(json.dumps({'type': 'TRACE', 'trace': {'type': 'ERROR', 'emitted_at': 0, 'error':"
        " {'message': 'denied for ' + config['key'], 'failure_type': kind}}}))\n"
    )
    connector = Connector(_script(tmp_path, body), "fake")
    for kind, error in (("config_error", ConnectorConfigError), ("system_error", ConnectorFailed)):
        config = {"kind": kind, "key": "s3cr3t-value"}
        connector.mask = Masker.of(config, ["key"])
        with pytest.raises(error) as raised:
            list(connector.read(config, {"streams": []}, None, timeout_seconds=60))
        assert str(raised.value) == "fake: denied for ***"
        assert isinstance(raised.value, ConfigError) == (kind == "config_error")


def test_the_config_reaches_the_connector_in_a_private_file_never_on_argv(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    body = (
        "import json, os, stat, sys\n"
        "path = sys.argv[sys.argv.index('--config') + 1]\n"
        "mode = oct(os.stat(path).st_mode & 0o777)\n"
        "folder = oct(os.stat(os.path.dirname(path)).st_mode & 0o777)\n"
        f"open({str(seen)!r}, 'w').write(json.dumps("
        "{'argv': sys.argv, 'mode': mode, 'folder': folder, 'env': sorted(os.environ)}))\n"
        "print(json.dumps({'type': 'CONNECTION_STATUS', 'connectionStatus': {'status': 'SUCCEEDED'}}))\n"
    )
    os.environ["LIFTOFF_PIPELINE_PASSWORD"] = "task-secret"
    try:
        Connector(_script(tmp_path, body), "fake").check({"key": "s3cr3t-value"})
    finally:
        del os.environ["LIFTOFF_PIPELINE_PASSWORD"]
    said = json.loads(seen.read_text())
    assert "s3cr3t-value" not in " ".join(said["argv"])
    assert (said["mode"], said["folder"]) == ("0o600", "0o700")
    assert "LIFTOFF_PIPELINE_PASSWORD" not in said["env"], "the task's secrets stay out of the connector"
    assert not Path(said["argv"][-1]).exists(), "the config file is removed afterwards"


def test_a_secret_from_an_airflow_connection_its_password_or_another_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = SourceConfig.model_validate(
        {
            "connector": {
                "package": "airbyte-source-hubspot==5.7.0",
                "secrets": {
                    "credentials.access_token": {"connection": "hubspot"},
                    "credentials.client_id": {"connection": "hubspot", "field": "login"},
                    "credentials.refresh_token": {"connection": "hubspot", "field": "refresh"},
                },
            },
            "streams": {"deals": {"contract": "sale", "cursor_field": "updatedat", "primary_key": "id"}},
        }
    )
    interval = Interval.for_day(date(2026, 11, 20))
    monkeypatch.delenv("AIRFLOW_CONN_HUBSPOT", raising=False)
    with pytest.raises(ConfigError, match="the Airflow connection hubspot is missing") as raised:
        runtime_config("hubspot", source, interval, env={})
    assert "AIRFLOW_CONN_HUBSPOT" in str(raised.value), "the message says how to give it"
    connection = {"conn_type": "http", "login": "app-7", "password": "pat-2", "extra": {"refresh": "r-3"}}
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT", json.dumps(connection))
    config = runtime_config("hubspot", source, interval, env={})
    assert config == {"credentials": {"access_token": "pat-2", "client_id": "app-7", "refresh_token": "r-3"}}
    del connection["extra"]
    monkeypatch.setenv("AIRFLOW_CONN_HUBSPOT", json.dumps(connection))
    with pytest.raises(ConfigError, match=r"has no refresh \(.*\): the credentials.refresh_token of source"):
        runtime_config("hubspot", source, interval, env={})


def test_secret_references_as_sources_add_takes_and_writes_them() -> None:
    from liftoff.config import ConnectionSecret
    from liftoff.ingest.secrets import as_entry, describe, parse_reference

    assert parse_reference("HUBSPOT_TOKEN") == "HUBSPOT_TOKEN"
    assert parse_reference("connection:hubspot") == ConnectionSecret(connection="hubspot")
    assert as_entry(parse_reference("connection:hubspot")) == {"connection": "hubspot"}
    assert as_entry(parse_reference("connection:hub:login")) == {"connection": "hub", "field": "login"}
    assert describe(parse_reference("connection:hub:login")) == "Airflow connection hub (login)"
    with pytest.raises(ConfigError, match="write connection:CONN_ID"):
        parse_reference("connection:")
    with pytest.raises(ValueError, match="no environment variable's name"):
        SourceConfig.model_validate(
            {
                "connector": {"package": "airbyte-source-hubspot==5.7.0", "secrets": {"a": "not a var"}},
                "streams": {"deals": {"contract": "sale", "cursor_field": "u", "primary_key": "id"}},
            }
        )


def test_the_start_date_is_written_as_the_connector_spec_accepts_it() -> None:
    from liftoff.ingest.adding import start_date_format

    shopify = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
    stripe = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}
    millis = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"}
    assert start_date_format(shopify) == "%Y-%m-%d"
    assert start_date_format({"type": "string", "format": "date"}) == "%Y-%m-%d"
    assert start_date_format(stripe) == start_date_format({"type": "string"}) == "%Y-%m-%dT%H:%M:%SZ"
    assert start_date_format(millis) == "%Y-%m-%dT%H:%M:%S.000Z"
    assert start_date_format({"type": "string", "pattern": r"^\d{2}/\d{2}/\d{4}$"}) is None, "no key then"
    source = SourceConfig.model_validate(
        {
            "connector": {
                "package": "airbyte-source-shopify==4.3.0",
                "config": {"shop": "my-store"},
                "start_date_key": "start_date",
                "start_date_format": start_date_format(shopify),
            },
            "streams": {"orders": {"contract": "sale", "cursor_field": "updated_at", "primary_key": "id"}},
        }
    )
    config = runtime_config("shopify", source, Interval.for_day(date(2026, 11, 20)), env={})
    assert config == {"shop": "my-store", "start_date": "2026-11-20"}


def test_only_the_secrets_of_the_chosen_auth_method_are_required() -> None:
    """HubSpot's spec: `credentials` is required and is one of two auth methods, each with its
    own secrets; the config's constant (`credentials_title`) chooses one."""
    from liftoff.ingest.adding import secret_references

    def branch(title: str, secrets: list[str]) -> dict:
        return {
            "required": ["credentials_title", *secrets],
            "properties": {
                "credentials_title": {"type": "string", "const": title},
                **{name: {"type": "string", "airbyte_secret": True} for name in secrets},
            },
        }

    spec = {
        "connectionSpecification": {
            "required": ["credentials"],
            "properties": {
                "credentials": {
                    "oneOf": [
                        branch("OAuth Credentials", ["client_secret", "refresh_token"]),
                        branch("Private App Credentials", ["access_token"]),
                    ]
                }
            },
        }
    }
    paths = secret_paths(spec)
    private = {"credentials": {"credentials_title": "Private App Credentials"}}
    env = {"LIFTOFF_HUBSPOT_CREDENTIALS_ACCESS_TOKEN": "pat-1"}
    assert secret_references("hubspot", paths, {}, env, spec, private) == {
        "credentials.access_token": "LIFTOFF_HUBSPOT_CREDENTIALS_ACCESS_TOKEN"
    }
    oauth = {"credentials": {"credentials_title": "OAuth Credentials"}}
    with pytest.raises(ConfigError, match="LIFTOFF_HUBSPOT_CREDENTIALS_CLIENT_SECRET is not set"):
        secret_references("hubspot", paths, {}, env, spec, oauth)
    with pytest.raises(ConfigError, match="ACCESS_TOKEN is not set"):
        secret_references("hubspot", paths, {}, {}, spec, private)
