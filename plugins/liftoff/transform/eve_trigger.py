"""The wait of a day's transform for its eve, in the triggerer: it ends the sensor itself.

The standard provider's ``WorkflowTrigger`` polls the eve's ``transformed`` task; on success
it would resume the sensor in a task process only for it to return (a scheduler loop, a
worker's fork and a report: about 2 s of every day of a backfill). Here a success ends the
sensor from the triggerer (``TaskSuccessEvent``); anything else resumes the sensor, which
decides by its rules (``liftoff.transform.ordering``): the eve failed, or its run is gone
(deleted, to be replaced: ``liftoff run``), which the provider's trigger would never notice,
waiting on a run id that no longer exists. Imported by the
triggerer and when the sensor defers, never when a DAG is parsed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from airflow.providers.standard.triggers.external_task import WorkflowTrigger
from airflow.triggers.base import TaskSuccessEvent, TriggerEvent


class EveTransformedTrigger(WorkflowTrigger):
    """``WorkflowTrigger`` on the eve's run, ending the waiting sensor when the eve succeeded."""

    def serialize(self) -> tuple[str, dict]:
        _, kwargs = super().serialize()
        return f"{__name__}.{type(self).__name__}", kwargs

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            if await self._get_count_af_3(self.failed_states):
                yield TriggerEvent({"status": "failed"})
                return
            if await self._get_count_af_3(self.allowed_states) == len(self.run_ids):
                yield TaskSuccessEvent()
                return
            if not await self._get_count_af_3(None):  # the eve's task in any state: its run is gone
                yield TriggerEvent({"status": "gone"})
                return
            await asyncio.sleep(self.poke_interval)
