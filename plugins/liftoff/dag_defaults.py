"""Defaults every LiftOff DAG shares: owner, retries with backoff, the start of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liftoff.alerts import on_task_failed
from liftoff.config import get_settings

DAG_ID = "sales_elt"  # the daily DAG (dags/sales_elt.py), as the CLI and the runners name it
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)

# A task that raises is retried (an outage: database, API, object store); one that raises
# AirflowFailException (configuration, a contract threshold, bad input) fails at once.
# A task that fails for good (retries spent) sends one alert (liftoff.alerts).
DEFAULT_ARGS = {
    "on_failure_callback": on_task_failed,
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(seconds=get_settings().retry_delay_seconds),
    "retry_exponential_backoff": True,
}
