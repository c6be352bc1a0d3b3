"""``liftoff sources add``: a connector from Airbyte's catalog becomes a source, its contracts scaffolded.

In order, nothing written until everything before succeeded: install the connector (its own
virtualenv), read its ``spec``, refuse secrets in the given config (they come from
environment variables or Airflow connections: the entry names where), validate the config
against the spec, run ``check`` (bad credentials: one line) and ``discover``, then write one contract (and its
bronze shape) per stream from the discovered schema, the entry in ``include/sources.yaml``,
and the derived dbt files and manifest. A failure after the first write puts every file back.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from liftoff.config import (
    DBT_PROJECT_DIR,
    INCLUDE_DIR,
    TELEMETRY_OFF,
    ConfigError,
    ConnectorConfig,
    Settings,
    SourceConfig,
    StreamConfig,
    load_sources,
)
from liftoff.errors import Refused
from liftoff.ingest.cdk_runner import column_name
from liftoff.ingest.connectors import ConnectorPackage, install
from liftoff.ingest.protocol import Connector, Masker, get_path, secret_paths, set_path
from liftoff.ingest.secrets import SecretReference, as_entry, parse_reference, resolve_all

log = logging.getLogger(__name__)

_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


@dataclass
class Added:
    """What ``sources add`` wrote."""

    name: str
    entry: dict
    files: list[Path] = field(default_factory=list)


def read_config(text: str) -> dict:
    """``--config``: a JSON object, or ``@file`` holding JSON or YAML."""
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"--config {path}: {exc.strerror or exc}") from None
    try:
        config = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"--config is neither JSON nor YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(config, dict):
        raise ConfigError("--config must be an object (a mapping of the connector's config fields)")
    return config


def default_variable(name: str, path: str) -> str:
    """``LIFTOFF_<NAME>_<PATH>``: where a secret of source ``name`` is read by default."""
    return re.sub(r"[^A-Z0-9_]", "_", f"LIFTOFF_{name}_{path}".upper())


def secret_references(
    name: str, paths: list[str], given: dict[str, str], env: dict[str, str], spec: dict, config: dict
) -> dict[str, SecretReference]:
    """The secret fields the entry reads, each from where it is kept: those named by
    ``--secret`` (a variable, or ``connection:CONN_ID[:FIELD]``) and those whose default
    variable (``LIFTOFF_<NAME>_<PATH>``) is set; a secret the spec requires must be one of them
    (a connector's other secrets belong to auth methods not used). Each must be readable now."""
    unknown = sorted(set(given) - set(paths))
    if unknown:
        raise ConfigError(
            f"--secret {unknown[0]}: the connector's spec has no secret field of that name"
            f" (its secret fields: {', '.join(paths) or 'none'})"
        )
    references: dict[str, SecretReference] = {}
    for path in paths:
        if path in given:
            references[path] = parse_reference(given[path])
        elif env.get(variable := default_variable(name, path)):
            references[path] = variable
        elif _required(spec, path, config):
            raise ConfigError(
                f"{variable} is not set: the {path} of the connector (a secret it requires;"
                f" or name where it is kept with --secret {path}=VAR or {path}=connection:CONN_ID)"
            )
    resolve_all(references, lambda path: f"the {path} of the connector (a secret)", env)
    return references


def validate_config(spec: dict, config: dict, mask: Masker) -> None:
    """The config against the connector's spec (JSON Schema), the first problem in one line."""
    import jsonschema

    schema = spec.get("connectionSpecification") or {}
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first.absolute_path) or "the config"
        raise ConfigError(f"--config: {where}: {mask(first.message)[:300]}")


def _contract_name(source: str, stream: str) -> str:
    return re.sub(r"_+", "_", column_name(f"{source}_{stream}")).strip("_")


def stream_entry(
    name: str,
    stream: dict,
    *,
    full_refresh: bool,
    primary_key: str | None,
    cursor: str | None,
) -> tuple[dict, list[str], str | None]:
    """The stream's entry in sources.yaml, its primary key and its cursor (the connector's fields)."""
    stream_name = stream["name"]
    fields = list((stream.get("json_schema") or {}).get("properties") or {})
    key = (
        [primary_key] if primary_key else [path[0] for path in stream.get("source_defined_primary_key") or []]
    )
    if len(key) != 1:
        raise ConfigError(
            f"stream {stream_name} has {'a composite' if key else 'no'} primary key:"
            f" name one field with --primary-key {stream_name}=FIELD"
        )
    cursor_field = cursor or next(iter(stream.get("default_cursor_field") or []), None)
    for label, value in (("--primary-key", key[0]), ("--cursor", cursor_field)):
        if value is not None and value not in fields:
            raise ConfigError(f"{label} {stream_name}={value}: the stream has no such field")
    incremental = (
        not full_refresh
        and cursor_field is not None
        and "incremental" in stream.get("supported_sync_modes", [])
    )
    entry: dict = {"sync": "incremental" if incremental else "full_refresh"}
    entry["contract"] = _contract_name(name, stream_name)
    if incremental:
        entry["cursor_field"] = column_name(cursor_field)
    entry["primary_key"] = column_name(key[0])
    entry["max_reject_ratio"] = 0.05
    StreamConfig.model_validate(entry)
    return entry, key, cursor_field if incremental else None


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        left, sep, right = value.partition("=")
        if not sep or not left or not right:
            raise ConfigError(f"{option} {value!r}: write it as NAME=VALUE")
        pairs[left.strip()] = right.strip()
    return pairs


def add_source(
    name: str,
    package_spec: str,
    config: dict,
    settings: Settings,
    *,
    streams: list[str] | None = None,
    secrets: list[str] = (),
    full_refresh: list[str] = (),
    primary_keys: list[str] = (),
    cursors: list[str] = (),
    env: dict[str, str] | None = None,
    include_dir: Path = INCLUDE_DIR,
    dbt_dir: Path = DBT_PROJECT_DIR,
) -> Added:
    env = os.environ if env is None else env
    if not _NAME.fullmatch(name):
        raise ConfigError(f"source name {name!r}: lower-case letters, digits and _, starting with a letter")
    sources_file = settings.sources_file
    if name in load_sources(sources_file):
        raise ConfigError(f"source {name} is already in {sources_file.name}: pick another name")
    package = ConnectorPackage.parse(package_spec)
    executable = install(package, settings.connectors_dir)
    connector = Connector(executable, f"{package} (source {name})")
    spec = connector.spec()

    paths = secret_paths(spec)
    given = [path for path in paths if get_path(config, path) is not None]
    if given:
        variable = default_variable(name, given[0])
        raise ConfigError(
            f"--config holds {given[0]}, a secret: leave it out and put it in {variable}"
            f" (or name another variable with --secret {given[0]}=VAR)"
        )
    references = secret_references(name, paths, _pairs(list(secrets), "--secret"), env, spec, config)
    runtime = copy.deepcopy(config)
    for path, value in resolve_all(references, lambda path: f"the {path} of the connector", env).items():
        set_path(runtime, path, value)
    connector.mask = Masker.of(runtime, paths)
    validate_config(spec, runtime, connector.mask)
    connector.check(runtime)
    discovered = connector.discover(runtime)

    chosen = streams or sorted(discovered)
    unknown = [s for s in chosen if s not in discovered]
    if unknown:
        raise ConfigError(
            f"the connector has no stream {unknown[0]} (it has: {', '.join(sorted(discovered))})"
        )
    keys, cursor_of = _pairs(list(primary_keys), "--primary-key"), _pairs(list(cursors), "--cursor")
    for option, named in (("--primary-key", keys), ("--cursor", cursor_of), ("--full-refresh", full_refresh)):
        if stray := [s for s in named if s not in chosen]:
            raise ConfigError(f"{option} {stray[0]}: not one of the chosen streams ({', '.join(chosen)})")

    from liftoff.ingest.scaffold import scaffold_stream

    stream_entries, scaffolds = {}, []
    for stream_name in chosen:
        stream = discovered[stream_name]
        entry, key, cursor = stream_entry(
            name,
            stream,
            full_refresh=stream_name in full_refresh,
            primary_key=keys.get(stream_name),
            cursor=cursor_of.get(stream_name),
        )
        stream_entries[stream_name] = entry
        scaffolds.append(
            scaffold_stream(
                entry["contract"],
                stream.get("json_schema") or {},
                primary_key=[column_name(k) for k in key],
                cursor_field=column_name(cursor) if cursor else None,
                description=f"A record of stream {stream_name} of source {name} ({package}).",
            )
        )
    connector_entry: dict = {"package": str(package), "config": config}
    if references:
        connector_entry["secrets"] = {path: as_entry(ref) for path, ref in references.items()}
    start_key = "start_date" if "start_date" in _properties(spec) else None
    date_format = start_date_format(_properties(spec)[start_key]) if start_key else None
    if date_format and all(e["sync"] == "incremental" for e in stream_entries.values()):
        connector_entry["start_date_key"] = start_key
        if date_format != ConnectorConfig.model_fields["start_date_format"].default:
            connector_entry["start_date_format"] = date_format
    entry = {
        "description": f"{package.command} ({package}), added by `liftoff sources add`.",
        "connector": connector_entry,
        "streams": stream_entries,
    }
    ConnectorConfig.model_validate(connector_entry)
    SourceConfig.model_validate(entry)
    return _write(name, entry, scaffolds, sources_file, include_dir, dbt_dir)


# How a start date may be written, the most precise first: the first the spec's field accepts.
START_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.000Z", "%Y-%m-%d")


def start_date_format(definition: dict) -> str | None:
    """The format of the first of :data:`START_DATE_FORMATS` whose rendering of a time the
    spec's start date field accepts (its ``pattern``, its ``format``); None when it accepts
    none (then the entry gets no ``start_date_key``: its streams read from their STATE)."""
    sample = datetime(2026, 1, 5, tzinfo=UTC)
    pattern = definition.get("pattern")
    for candidate in START_DATE_FORMATS:
        text = sample.strftime(candidate)
        if pattern and not re.search(pattern, text):
            continue
        if definition.get("format") == "date" and candidate != "%Y-%m-%d":
            continue
        return candidate
    return None


def _properties(spec: dict) -> dict:
    return (spec.get("connectionSpecification") or {}).get("properties") or {}


def _required(spec: dict, path: str, config: dict) -> bool:
    """Whether the spec requires the field at ``path`` for this config: each segment is in its
    object's ``required``; inside a ``oneOf``/``anyOf`` only the branch the config chose counts
    (the one whose constant fields, such as HubSpot's ``credentials_title``, the config has),
    so the secrets of an auth method not chosen are never asked for."""
    schema: dict | None = spec.get("connectionSpecification") or {}
    value: object = config
    for segment in path.split("."):
        schema = _chosen_branch(schema, value)
        if schema is None or segment not in (schema.get("required") or []):
            return False
        schema = (schema.get("properties") or {}).get(segment) or {}
        value = value.get(segment) if isinstance(value, dict) else None
    return True


def _chosen_branch(schema: dict, value: object) -> dict | None:
    """``schema`` itself, or the branch of its ``oneOf``/``anyOf`` that ``value`` chose (every
    constant of the branch equal in ``value``); None when no branch is chosen."""
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches:
        return schema
    for branch in branches:
        constants = {
            key: definition["const"] if "const" in definition else definition["enum"][0]
            for key, definition in (branch.get("properties") or {}).items()
            if isinstance(definition, dict)
            and ("const" in definition or len(definition.get("enum") or []) == 1)
        }
        if constants and isinstance(value, dict) and all(value.get(k) == v for k, v in constants.items()):
            return branch
    return None


def entry_text(name: str, entry: dict) -> str:
    """The entry as YAML under ``sources:``, indented as the file's entries are."""
    body = yaml.safe_dump({name: entry}, sort_keys=False, default_flow_style=False, width=100)
    return "\n" + "".join(f"  {line}" if line.strip() else line for line in body.splitlines(keepends=True))


def _write(
    name: str, entry: dict, scaffolds: list, sources_file: Path, include_dir: Path, dbt_dir: Path
) -> Added:
    from liftoff.ingest.scaffold import write_scaffold

    before = sources_file.read_text()
    scaffolded: list[Path] = []
    try:
        for scaffold in scaffolds:
            scaffolded += write_scaffold(scaffold, include_dir)
        sources_file.write_text(before.rstrip("\n") + "\n" + entry_text(name, entry))
        reload_contracts()
        derived = [dbt_dir / path for path in _derive(load_sources(sources_file), dbt_dir)]
        parse_dbt(dbt_dir)
    except BaseException:  # put every file back: the scaffolds go, the derived files follow
        sources_file.write_text(before)
        for path in scaffolded:
            path.unlink(missing_ok=True)
        reload_contracts()
        _derive(load_sources(sources_file), dbt_dir)
        raise
    return Added(name, entry, [sources_file, *scaffolded, *derived])


def _derive(sources: dict, dbt_dir: Path) -> list[Path]:
    from liftoff.derive import write_derived

    return write_derived(sources, dbt_dir)


def reload_contracts() -> None:
    """Find the contract modules again (one was just written)."""
    import importlib

    import liftoff_contracts

    importlib.invalidate_caches()
    found = liftoff_contracts._discover()
    liftoff_contracts.CONTRACTS.clear()
    liftoff_contracts.CONTRACTS.update(found)


def parse_dbt(dbt_dir: Path) -> None:
    """``dbt parse``: the manifest Cosmos renders the DAG from (what ``make manifest`` ends with)."""
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run(
        [str(dbt), "parse", "--profiles-dir", ".", "--quiet"],
        cwd=dbt_dir,
        capture_output=True,
        text=True,
        env={**os.environ, **TELEMETRY_OFF},
    )
    if done.returncode != 0:
        said = (done.stdout + done.stderr).strip().splitlines()
        raise Refused(f"the source was not added: dbt parse failed: {said[-1] if said else done.returncode}")


def describe(name: str, source: SourceConfig) -> dict:
    """A source as `sources list` shows it."""
    if source.connector is not None:
        what = source.connector.package
    elif source.kind == "manifest":
        what = source.manifest
    elif source.kind == "stream":
        what = f"topic {source.kafka.topic}"
    else:
        what = "written by an app"
    streams = ", ".join(f"{s} ({c.sync})" for s, c in source.streams.items())
    return {"source": name, "kind": source.kind, "connector": what, "streams": streams}
