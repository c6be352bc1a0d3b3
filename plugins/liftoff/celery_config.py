"""Celery's settings for Airflow's workers (``[celery] celery_config_options``): Airflow's own,
and ``imports``: the modules every task imports, imported once by each worker before its pool
forks (the LocalExecutor's forkserver preloads the same: ``TASK_PRELOAD``)."""

from __future__ import annotations

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from liftoff.airflow_deployment import TASK_PRELOAD

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": TASK_PRELOAD}
