"""The trigger that waits, in the triggerer, for the previous day's transform.

It looks at the state of the previous day's ``transformed`` task, one request to the API
server each time, through the Task SDK (the triggerer's own API client): every second once
the previous day's own wait (its sensor) is over, every 5 s while that day still waits for
the day before it (``liftoff.transform.ordering``). On
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

from liftoff.transform.ordering import FAILED_STATES, IDLE_POLL_SECONDS, POLL_SECONDS, TRANSFORMED_TASK_ID

GONE = "gone"  # the state of the previous day's task when it is in no run (its run deleted)
# The states of the previous day's own wait while that day has not begun its silver: the
# trigger looks less often then. Any other answer (done, failed, no such task) looks every second.
STILL_WAITING = frozenset({None, "scheduled", "queued", "running", "deferred", "up_for_reschedule"})


class PreviousDayTransformedTrigger(BaseTrigger):
    """Fires when the ``transformed`` task of the previous day's run (``run_id`` of ``dag_id``)
    has succeeded (the sensor ends), has failed, or its run is gone (the sensor resumes and
    decides).

    It looks every ``poke_interval``, and every ``IDLE_POLL_SECONDS`` while that run's own wait
    is still waiting: the waiting sensor's task id (which the triggerer gives the trigger as
    ``task_id``) in the previous day's run. Nothing new is stored with the trigger, so a
    triggerer of the previous release loads what this one stores, and back."""

    def __init__(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str = TRANSFORMED_TASK_ID,
        failed_states: Sequence[str] = tuple(sorted(FAILED_STATES)),
        poke_interval: float = POLL_SECONDS,
        **_: Any,  # what a later release may store: a rollback still loads it
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

    @property
    def eve_wait_task_id(self) -> str | None:
        """The previous day's own wait: the waiting sensor's task id (set by the triggerer when
        it loads the trigger; None before), the same task in the previous day's run."""
        return self.task_id

    async def states(self) -> dict[str, str | None]:
        """The states of the previous day's tasks looked at (None: not scheduled yet), by task
        id, in one request; a task its run does not have (the run deleted) is not in it."""
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        task_ids = [self.eve_task_id, *([self.eve_wait_task_id] if self.eve_wait_task_id else [])]
        states = await sync_to_async(RuntimeTaskInstance.get_task_states)(
            dag_id=self.eve_dag_id, task_ids=task_ids, run_ids=[self.eve_run_id]
        )
        return states.get(self.eve_run_id, {})

    def next_look(self, states: dict[str, str | None]) -> float:
        """Seconds to the next look: longer while the previous day still waits for its own."""
        if self.eve_wait_task_id in states and states[self.eve_wait_task_id] in STILL_WAITING:
            return max(IDLE_POLL_SECONDS, self.poke_interval)
        return self.poke_interval

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            states = await self.states()
            state = states.get(self.eve_task_id, GONE)
            if state == "success":
                yield TaskSuccessEvent()
                return
            if state in self.failed_states:
                yield TriggerEvent({"status": "failed"})
                return
            if state == GONE:  # the previous day's run is gone
                yield TriggerEvent({"status": GONE})
                return
            await asyncio.sleep(self.next_look(states))
