"""Run ``sales_elt`` for given days through Airflow (``airflow dags test``), embedded default.

The run of day D has logical date D and covers [D, D + 1 day) (``liftoff.timetable``), as
the scheduler's, a backfill's and a trigger's runs of D do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from liftoff.archive.location import embedded_archive_url
from liftoff.batch import Interval
from liftoff.config import (
    PROJECT_ROOT,
    TELEMETRY_OFF,
    Settings,
    Unavailable,
    skipped_sources,
    streamed_sources,
)
from liftoff.dag_defaults import DAG_ID
from liftoff.lineage import lineage_env
from liftoff.local.children import airflow_binary
from liftoff.warehouse.location import Warehouse

PIPELINE_APPLICATION_NAME = "liftoff-pipeline"
# What Airflow's components and tasks never get of this process's environment: the owner's
# login (LIFTOFF_WAREHOUSE_URL, the original README's DB_*_PROD) and the apps' roles. The
# tasks log in as the pipeline (AIRFLOW_CONN_WAREHOUSE, set here).
WITHHELD = frozenset(
    {
        "LIFTOFF_WAREHOUSE_URL",
        "AIRFLOW_CONN_WAREHOUSE",
        "DB_HOST_PROD",
        "DB_PORT_PROD",
        "DB_NAME_PROD",
        "DB_USER_PROD",
        "DB_PASS_PROD",
        "LIFTOFF_ANALYST_PASSWORD",
        "LIFTOFF_ENTRY_WRITER_PASSWORD",
        "LIFTOFF_ANALYST_URL",
        "LIFTOFF_ENTRY_URL",
        "AIRFLOW_ADMIN_PASSWORD",
        "LIFTOFF_AIRFLOW_ADMIN_PASSWORD",
        "LIFTOFF_MINIO_ACCESS_KEY",
        "LIFTOFF_MINIO_SECRET_KEY",
        "LIFTOFF_MINIO_PIPELINE_SECRET",
        "LIFTOFF_ARCHIVE_PIPELINE_SECRET",
    }
)


@dataclass(frozen=True)
class RunOutcome:
    day: date
    ok: bool
    log_path: Path
    reason: str = ""


def airflow_env(
    settings: Settings, target: Warehouse, api_url: str, kafka_servers: str | None = None
) -> dict[str, str]:
    """Environment of an embedded Airflow: SQLite metadata under .liftoff, our DAGs, our warehouse
    as ``target`` (the pipeline's login), the stream sources' Kafka (``kafka_servers``;
    without it they are skipped). This process's environment less ``WITHHELD``."""
    home = settings.home / "airflow"
    return {
        **{name: value for name, value in os.environ.items() if name.upper() not in WITHHELD},
        **TELEMETRY_OFF,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_WAREHOUSE": target.airflow_conn_uri,
        # Every PostgreSQL connection of a task (ours, the connector runner's) is named for on-call;
        # dbt's are `dbt`.
        "PGAPPNAME": PIPELINE_APPLICATION_NAME,
        "LIFTOFF_API_URL": api_url,
        "LIFTOFF_HOME": str(settings.home),
        # The tasks archive where the CLI would: said explicitly, never a silent fallback.
        "LIFTOFF_ARCHIVE_URL": embedded_archive_url(settings),
        **lineage_env(settings.home),  # OpenLineage events: files under $LIFTOFF_HOME/lineage
        **stream_env(settings, kafka_servers),
    }


def stream_env(settings: Settings, kafka_servers: str | None) -> dict[str, str]:
    """The stream sources' Airflow connections to ``kafka_servers``, or, without one, those
    sources added to ``LIFTOFF_SKIP_SOURCES`` (a connection already in the environment, a
    team's, is kept)."""
    env: dict[str, str] = {}
    skipped = set(skipped_sources(settings))
    for name, source in streamed_sources(settings).items():
        variable = f"AIRFLOW_CONN_{source.kafka.conn_id.upper()}"
        if kafka_servers:
            # group.id: the asset watchers' consumer group (landing assigns offsets, never commits)
            extra = {"bootstrap.servers": kafka_servers, "group.id": "liftoff-watchers"}
            env[variable] = json.dumps({"conn_type": "kafka", "extra": extra})
        elif variable not in os.environ:
            skipped.add(name)
    if skipped:
        env["LIFTOFF_SKIP_SOURCES"] = ",".join(sorted(skipped))
    return env


def ensure_metadata_db(env: dict[str, str]) -> None:
    """Create or upgrade Airflow's SQLite metadata database (idempotent)."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([airflow_binary(), "db", "migrate"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        (home / "db-migrate.log").write_text(done.stdout + done.stderr)
        raise Unavailable(f"Airflow's metadata database did not migrate; see {home / 'db-migrate.log'}")


def day_logical_date(day: date) -> str:
    """The logical date a run of ``day`` is made with: the day at 00:00 UTC; today (a partial
    day, run on purpose) at this moment, so that it never holds the scheduler's run of it."""
    if day < datetime.now(UTC).date():
        return Interval.for_day(day).start.isoformat()
    return datetime.now(UTC).isoformat()


_FAILED_TASK = re.compile(
    r"(AirflowFailException|BatchRejected|IngestError|ConfigError|Unavailable|Error): (.+)"
)


def run_day(
    day: date,
    env: dict[str, str],
    log_dir: Path,
    *,
    skip_ingest: bool = False,
    mark_success: str | None = None,
    conf: dict | None = None,
) -> RunOutcome:
    """One ``sales_elt`` run for ``day``, its whole log kept in ``log_dir``.

    ``skip_ingest``: take landing as it is (restored from the archive, say): the ingest
    tasks are marked successful instead of re-syncing the source. ``mark_success``: a
    regular expression of other task ids (whole ids) to mark successful without running them.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    # one log per run, kept; `sales_elt-<day>.log` points at the day's latest
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    log_path = log_dir / f"{DAG_ID}-{day.isoformat()}-{started}.log"
    latest = log_dir / f"{DAG_ID}-{day.isoformat()}.log"
    latest.unlink(missing_ok=True)
    latest.symlink_to(log_path.name)
    logical_date = day_logical_date(day)
    with log_path.open("w") as log:
        command = [airflow_binary(), "dags", "test", DAG_ID, logical_date]
        # Airflow matches the pattern against the whole task id (re.fullmatch).
        pattern = "|".join(p for p in (r".+\.ingest" if skip_ingest else None, mark_success) if p)
        if pattern:
            command += ["--mark-success-pattern", pattern]
        if conf:  # the run's config, as a trigger from the UI gives it
            command += ["--conf", json.dumps(conf)]
        # no deadline alerts under `dags test` (it runs the day at once; liftoff.config says why),
        # and no approvals: nobody answers them here (a quiet day fails, naming --accept-low-volume)
        test_env = {**env, "LIFTOFF_ALERT_DEADLINES": "false", "LIFTOFF_APPROVALS": "false"}
        done = subprocess.run(command, env=test_env, stdout=log, stderr=subprocess.STDOUT)
    text = log_path.read_text(errors="replace")
    ok = done.returncode == 0 and "state=success" in text
    reason = ""
    if not ok:
        matches = _FAILED_TASK.findall(text)
        reason = matches[-1][1].strip() if matches else f"airflow exited with {done.returncode}"
    return RunOutcome(day, ok, log_path, reason)
