"""The wait of a day's transform for its eve, in the triggerer: it ends the sensor itself.

It polls the eve's ``transformed`` task through the Task SDK (the triggerer's own API
client) every 2 s. A success ends the waiting sensor from the triggerer
(``TaskSuccessEvent``: no task process only for it to return, about 2 s of every day of a
backfill); anything else resumes the sensor, which decides by its rules
(``liftoff.transform.ordering``): the eve failed, or its run is gone (deleted, to be
replaced: ``liftoff run``). Imported by the triggerer and when the sensor defers, never
when a DAG is parsed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent
from asgiref.sync import sync_to_async

from liftoff.transform.ordering import FAILED_STATES, POLL_SECONDS, TRANSFORMED_TASK_ID


class PreviousDayTransformedTrigger(BaseTrigger):
    """Until the ``transformed`` task of the eve's run (``run_id`` of ``dag_id``) succeeded
    (the sensor ends), failed, or its run is gone (the sensor resumes and decides)."""

    def __init__(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str = TRANSFORMED_TASK_ID,
        failed_states: Sequence[str] = tuple(sorted(FAILED_STATES)),
        poke_interval: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        # eve_*, never task_id or the like: the triggerer sets BaseTrigger's task_id to the
        # waiting sensor's own (it counted the eve's sensor, not its transform, when so named)
        self.eve_dag_id = dag_id
        self.eve_run_id = run_id
        self.eve_task_id = task_id
        self.failed_states = list(failed_states)
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {
            "dag_id": self.eve_dag_id,
            "run_id": self.eve_run_id,
            "task_id": self.eve_task_id,
            "failed_states": self.failed_states,
            "poke_interval": self.poke_interval,
        }

    async def count(self, states: list[str] | None) -> int:
        """How many of the eve's task instances are in ``states`` (None: in any state)."""
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        return await sync_to_async(RuntimeTaskInstance.get_ti_count)(
            dag_id=self.eve_dag_id, task_ids=[self.eve_task_id], run_ids=[self.eve_run_id], states=states
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            if await self.count(self.failed_states):
                yield TriggerEvent({"status": "failed"})
                return
            if await self.count(["success"]):
                yield TaskSuccessEvent()
                return
            if not await self.count(None):  # the eve's task in any state: its run is gone
                yield TriggerEvent({"status": "gone"})
                return
            await asyncio.sleep(self.poke_interval)
