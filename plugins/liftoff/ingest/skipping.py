"""`liftoff run --skip-ingest` through a running Airflow: the run's config says ``skip_ingest``,
and each source's ingest step (local, stream or an Airbyte server's sync) keeps landing as it is."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

SKIP_INGEST = "skip_ingest"  # the run's config key


def skip_ingest_requested(context: Mapping[str, Any], log: logging.Logger) -> bool:
    """Whether the run's config asks to keep landing as it is; logged when it does."""
    dag_run = context.get("dag_run")
    if dag_run is not None and (dag_run.conf or {}).get(SKIP_INGEST):
        log.info("skip_ingest: landing is kept as it is (restored from the archive, say)")
        return True
    return False
