"""The wait of a day's transform for its eve, in the triggerer: it ends the sensor itself.

The standard provider's ``WorkflowTrigger`` polls the eve's ``transformed`` task; on success
it would resume the sensor in a task process only for it to return (a scheduler loop, a
worker's fork and a report: about 2 s of every day of a backfill). Here a success ends the
sensor from the triggerer (``TaskSuccessEvent``); anything else (the eve failed) resumes the
sensor, which decides by its rules (``liftoff.transform.ordering``). Imported by the
triggerer and when the sensor defers, never when a DAG is parsed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from airflow.providers.standard.triggers.external_task import WorkflowTrigger
from airflow.triggers.base import TaskSuccessEvent, TriggerEvent


class EveTransformedTrigger(WorkflowTrigger):
    """``WorkflowTrigger`` on the eve's run, ending the waiting sensor when the eve succeeded."""

    def serialize(self) -> tuple[str, dict]:
        _, kwargs = super().serialize()
        return f"{__name__}.{type(self).__name__}", kwargs

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in super().run():
            yield TaskSuccessEvent() if event.payload.get("status") == "success" else event
            return
