"""Celery's settings for Airflow's workers (``[celery] celery_config_options``): Airflow's own,
and ``imports``: the modules every task imports, imported once by each worker before its pool
forks (the LocalExecutor's forkserver preloads the same: ``TASK_PRELOAD``)."""

from __future__ import annotations

import gc

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
from celery.signals import worker_init

from liftoff.dag_defaults import TASK_PRELOAD

CELERY_CONFIG = {**DEFAULT_CELERY_CONFIG, "imports": TASK_PRELOAD}


@worker_init.connect
def freeze_what_the_pool_shares(**_: object) -> None:
    """After the imports, before the pool forks: their objects stay out of the collector's way
    and shared with the pool's processes (Airflow's `worker_ready` handler unfreezes)."""
    gc.freeze()
