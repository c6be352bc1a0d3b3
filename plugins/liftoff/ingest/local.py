"""Embedded ingestion: the source's declarative manifest run by PyAirbyte, for one interval.

PyAirbyte lives in its own virtualenv; this module calls it as a subprocess
(``pyairbyte_runner.py``) and lands ``raw_<source>.<stream>`` in Airbyte's layout.
A run re-syncs exactly its window: the window's landed rows are deleted, then appended.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from liftoff.batch import Batch, Interval
from liftoff.config import TELEMETRY_OFF, ConfigError, Settings, SourceConfig, landing_schema
from liftoff.warehouse.target import WarehouseTarget

RUNNER = Path(__file__).with_name("pyairbyte_runner.py")
AIRBYTE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class IngestError(RuntimeError):
    """The connector run failed; the message says why in one line."""


def connector_config(source: SourceConfig, interval: Interval, env: dict[str, str] | None = None) -> dict:
    """The manifest's config: the window plus values read from the environment."""
    env = os.environ if env is None else env
    base_url = env.get(source.config.base_url_env)
    if not base_url:
        raise ConfigError(f"{source.config.base_url_env} is not set: the API URL of the source")
    config = {
        "base_url": base_url.rstrip("/"),
        "start_date": interval.start.strftime(AIRBYTE_TIME_FORMAT),
        "end_date": interval.end.strftime(AIRBYTE_TIME_FORMAT),
    }
    if source.config.page_size:
        config["page_size"] = source.config.page_size
    if source.config.api_key_env and env.get(source.config.api_key_env):
        config["api_key"] = env[source.config.api_key_env]
    return config


def sync_interval(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: WarehouseTarget,
    settings: Settings,
    *,
    timeout_seconds: int = 1800,
) -> dict[str, int]:
    """Sync ``interval`` of every stream of ``source``; return the rows landed per stream."""
    python = settings.airbyte_python
    if not python.exists():
        raise ConfigError(f"PyAirbyte virtualenv not found at {python}: run `make install`")
    batches = Batch.all_of(name, source, interval)
    incremental = [b.stream for b in batches if b.cursor_field is not None]
    snapshots = [b.stream for b in batches if b.cursor_field is None]
    with target.connect() as conn:
        for batch in batches:
            if batch.cursor_field is not None:  # a snapshot is replaced by the sync itself
                batch.delete_landed(conn)
        conn.commit()
    request = {
        "name": f"source-liftoff-{name}",
        "manifest": str(source.manifest_path),
        "config": connector_config(source, interval),
        # incremental streams: the window appended (after the delete above); reference
        # streams: the whole snapshot, replacing the last one
        "reads": [
            r
            for r in (
                {"streams": incremental, "write_strategy": "append"},
                {"streams": snapshots, "write_strategy": "replace"},
            )
            if r["streams"]
        ],
        "cache_dir": str(settings.home / "pyairbyte" / "cache"),
        "postgres": {
            "host": target.host,
            "port": target.port,
            "database": target.database,
            "username": target.user,
            "password": target.password,
            "schema": landing_schema(name),
        },
    }
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        "AIRBYTE_TEMP_DIR": str(settings.home / "pyairbyte" / "tmp"),
        "AIRBYTE_LOGGING_ROOT": str(settings.home / "logs" / "pyairbyte"),
    }
    Path(env["AIRBYTE_TEMP_DIR"]).mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [str(python), str(RUNNER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            env=env,
            cwd=settings.home,
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(f"sync of {name} for {interval.day} timed out after {timeout_seconds}s") from exc
    lines = done.stdout.strip().splitlines()
    try:
        outcome = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        outcome = {}
    if done.returncode != 0 or not outcome.get("ok"):
        reason = outcome.get("error") or (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise IngestError(f"sync of {name} for {interval.day} failed: {reason}")
    with target.connect() as conn:
        return {batch.stream: batch.count(conn) for batch in batches}
