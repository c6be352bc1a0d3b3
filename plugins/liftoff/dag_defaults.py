"""Defaults every LiftOff DAG shares: owner, retries with backoff, the start date.

The names the ``liftoff`` command reads (``DAG_ID``, ``START_DATE``, ``TASK_PRELOAD``) import
no Airflow. ``DEFAULT_ARGS`` (with the failure notifier) is built the first time a DAG file
asks for it.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

DAG_ID = "sales_elt"  # the daily DAG (dags/sales_elt.py), as the CLI and the runners name it
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
# Modules every task process of the pipeline imports. Each executor worker imports them once
# and its task processes fork from it with them loaded (otherwise each task spends 1.2 s on
# Airflow's task runner and 1.4 s on dbt). Our own code is not preloaded, so each task reads
# the project as it is now (only the warm-ups of dbt and of the connector runner, which read
# none of it but the settings; the runner's server stands aside when its files change). What
# they read at import (Cosmos' settings, its plugin's API address, where the CDK is) is read
# once per worker too: after an upgrade of dbt, Cosmos, the Airbyte CDK or these libraries, or
# a change to the [cosmos] or [api] settings, restart the scheduler (LocalExecutor) or the
# Celery workers.
TASK_PRELOAD = (
    "airflow.sdk.execution_time.task_runner",
    "airflow.dag_processing.dagbag",  # what parses the task's DAG file: 0.02 s a task
    "cosmos",
    "dbt.cli.main",
    # what a build runs, dbt's tests among it: they import daff, which a task finds first as
    # the uncompiled script in the virtualenv's bin/ (a console script's folder leads sys.path)
    "dbt.task.build",  # 0.12 s a dbt task
    "dbt.adapters.postgres",
    "airflow.providers.openlineage.plugins.listener",  # the lineage listener: 1.3 s a task otherwise
    "cosmos.plugin.airflow3",  # Cosmos' Airflow plugin (FastAPI), which each task loads: 0.3 s
    # what the DAG files import besides our code: a task parses its DAG file in 0.1 s, not 0.4 s
    "psycopg",  # 0.3 s: its adapters
    "pydantic_settings",
    "cosmos.airflow.task_group",
    "cosmos.operators.local",
    "cosmos.profiles",
    "airflow.providers.standard.decorators.python",
    "airflow.providers.standard.operators.hitl",  # the quiet day's approval (asgiref)
    "airflow.providers.postgres.hooks.postgres",
    "minio",  # the archive's client, which its task imports: 0.1 s
    "liftoff.transform.warm_dbt",  # a throwaway `dbt parse`, twice: each dbt call 0.9 s faster
    "liftoff.ingest.connector_warm_up",  # the connector runner with the CDK imported: 1.6 s a sync
)


@functools.cache
def _default_args() -> dict[str, Any]:
    """A task that raises is retried (an outage: database, API, object store); a permanent
    error (configuration, a contract threshold, bad input) fails it at once (liftoff.errors).
    A task that fails for good (retries spent) sends one alert (liftoff.notifiers.alerts)."""
    from liftoff.config import get_settings
    from liftoff.notifiers.alerts import TaskFailedNotifier

    return {
        "on_failure_callback": TaskFailedNotifier(),
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(seconds=get_settings().retry_delay_seconds),
        "retry_exponential_backoff": True,
    }


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_ARGS":
        return _default_args()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
