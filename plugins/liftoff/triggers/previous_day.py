"""The trigger that waits, in the triggerer, for the previous day's transform.

It looks at the state of the previous day's ``transformed`` task every second, one request
to the API server each time, through the Task SDK (the triggerer's own API client). On
success it ends the waiting sensor from the triggerer (``TaskSuccessEvent``), so no task
process starts only to return: that saves about 2 s for every day of a backfill. On anything
else it resumes the sensor, which decides by its rules (``liftoff.transform.ordering``): the
previous day's transform failed, or its run is gone (deleted, to be replaced by ``liftoff
run``). The triggerer and a deferring sensor import this module; parsing a DAG does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent
from asgiref.sync import sync_to_async

from liftoff.transform.ordering import FAILED_STATES, POLL_SECONDS, TRANSFORMED_TASK_ID

GONE = "gone"  # what ``state`` answers when the previous day's task is in no run (its run deleted)


class PreviousDayTransformedTrigger(BaseTrigger):
    """Fires when the ``transformed`` task of the previous day's run (``run_id`` of ``dag_id``)
    has succeeded (the sensor ends), has failed, or its run is gone (the sensor resumes and
    decides)."""

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
        # The previous day's ("eve's") run is kept as eve_*, never as task_id or the like: the
        # triggerer sets BaseTrigger's task_id to the waiting sensor's own. (Named task_id, the
        # trigger counted the previous day's sensor instead of its transform.)
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

    async def state(self) -> str | None:
        """The state of the previous day's task (None: not scheduled yet); GONE when its run
        has no such task any more (deleted)."""
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        states = await sync_to_async(RuntimeTaskInstance.get_task_states)(
            dag_id=self.eve_dag_id, task_ids=[self.eve_task_id], run_ids=[self.eve_run_id]
        )
        return states.get(self.eve_run_id, {}).get(self.eve_task_id, GONE)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            state = await self.state()
            if state == "success":
                yield TaskSuccessEvent()
                return
            if state in self.failed_states:
                yield TriggerEvent({"status": "failed"})
                return
            if state == GONE:  # the previous day's run is gone
                yield TriggerEvent({"status": GONE})
                return
            await asyncio.sleep(self.poke_interval)
