"""Server ingestion: an Airbyte server syncs the source; Airflow triggers the job and waits.

The provider's ``AirbyteTriggerSyncOperator`` in deferrable mode (the triggerer waits,
not a worker slot), with a timeout, the job cancelled on timeout or kill (the provider
does both), and failures that say which source, Airbyte connection and job failed.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator
from airflow.sdk.exceptions import AirflowException


class AirbyteSyncFailed(AirflowException):
    """The Airbyte job did not succeed; the message names the connection and the job."""


class AirbyteSyncOperator(AirbyteTriggerSyncOperator):
    """Trigger the Airbyte connection that lands ``source`` and wait for it, deferred."""

    def __init__(self, *, source: str, **kwargs: Any) -> None:
        kwargs.setdefault("deferrable", True)
        super().__init__(**kwargs)
        self.source = source
        self.job_id: int | None = None

    def _failed(self, what: str, job_id: object = None) -> AirbyteSyncFailed:
        job = job_id if job_id is not None else self.job_id
        return AirbyteSyncFailed(
            f"Airbyte sync of source {self.source!r} (connection {self.connection_id}, job {job}): {what}"
        )

    def execute(self, context: Any) -> Any:
        try:
            return super().execute(context)
        except Exception as exc:  # TaskDeferred is a BaseException: deferral passes through
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise self._failed(first_line) from exc

    def execute_complete(self, context: Any, event: Any = None) -> None:
        event = event or {}
        try:
            return super().execute_complete(context, event)
        except Exception as exc:
            raise self._failed(
                f"{event.get('status', 'error')}: {event.get('message', exc)}", event.get("job_id")
            ) from exc
