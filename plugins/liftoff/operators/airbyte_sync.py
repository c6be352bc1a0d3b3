"""Server ingestion: an Airbyte server syncs the source; Airflow triggers the job and waits.

The provider's ``AirbyteTriggerSyncOperator`` in deferrable mode (the triggerer waits,
not a worker slot), with a timeout, the job cancelled on timeout or kill (the provider
does both), and failures that say which source, Airbyte connection and job failed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from liftoff.config import first_line
from liftoff.ingest.skipping import skip_ingest_requested


class AirbyteSyncFailed(AirflowException):
    """The Airbyte job did not succeed; the message names the connection and the job."""


class AirbyteSyncOperator(AirbyteTriggerSyncOperator):
    """Trigger the Airbyte connection that lands ``source`` and wait for it, deferred.

    ``connection_id_env``: the environment variable holding the Airbyte connection id (it
    differs between deployments), read when the task runs, never when the DAG is parsed: a
    missing id fails this source's ingest at once, and no other task or DAG.
    """

    def __init__(
        self,
        *,
        source: str,
        connection_id_env: str | None = None,
        lineage: Callable[[Any], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("deferrable", True)
        kwargs.setdefault("connection_id", "")
        super().__init__(**kwargs)
        self.source = source
        self.connection_id_env = connection_id_env
        self.job_id: int | None = None
        self._lineage = lineage  # liftoff.lineage.ingest_lineage: the source's streams -> its landing

    def get_openlineage_facets_on_start(self) -> Any:
        """The OpenLineage provider's question: what the sync reads and writes (no row counts:
        the Airbyte server keeps those)."""
        return self._lineage(None).operator_lineage() if self._lineage else None

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return self.get_openlineage_facets_on_start()

    def _resolve_connection_id(self) -> None:
        if self.connection_id or not self.connection_id_env:
            return
        value = os.environ.get(self.connection_id_env, "").strip()
        if not value:
            raise AirflowFailException(
                f"{self.connection_id_env} is not set: the Airbyte connection id of source {self.source!r}"
            )
        self.connection_id = value

    def _failed(self, what: str, job_id: object = None) -> AirbyteSyncFailed:
        job = job_id if job_id is not None else self.job_id
        return AirbyteSyncFailed(
            f"Airbyte sync of source {self.source!r} (connection {self.connection_id}, job {job}): {what}"
        )

    def execute(self, context: Any) -> Any:
        if skip_ingest_requested(context, self.log):  # `liftoff run --skip-ingest`: no sync
            return None
        self._resolve_connection_id()  # configuration: not retried
        try:
            return super().execute(context)
        except Exception as exc:  # TaskDeferred is a BaseException: deferral passes through
            raise self._failed(first_line(exc)) from exc

    def execute_complete(self, context: Any, event: Any = None) -> None:
        event = event or {}
        with contextlib.suppress(AirflowFailException):  # only to name the connection in an error
            self._resolve_connection_id()
        try:
            return super().execute_complete(context, event)
        except Exception as exc:
            raise self._failed(
                f"{event.get('status', 'error')}: {event.get('message', exc)}", event.get("job_id")
            ) from exc
