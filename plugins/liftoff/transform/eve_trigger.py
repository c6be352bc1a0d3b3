"""The old import path of the previous-day trigger, from before ``liftoff.triggers`` existed.

A sensor that deferred under the previous release stored
``liftoff.transform.eve_trigger.EveTransformedTrigger`` ("eve": the previous day's run) with
the standard provider's ``WorkflowTrigger`` arguments. The triggerer must still load it
after an upgrade; otherwise that day fails and the days after it wait. The class builds the
current trigger (``PreviousDayTransformedTrigger``) on the same run. Remove this module one
release later: a deferred sensor waits 12 hours at most."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from liftoff.transform.ordering import FAILED_STATES, POLL_SECONDS, TRANSFORMED_TASK_ID
from liftoff.triggers.previous_day import PreviousDayTransformedTrigger


class EveTransformedTrigger(PreviousDayTransformedTrigger):
    """``PreviousDayTransformedTrigger`` from the arguments the previous release stored."""

    def __init__(
        self,
        *,
        external_dag_id: str,
        run_ids: Sequence[str],
        external_task_ids: Sequence[str] | None = None,
        failed_states: Sequence[str] | None = None,
        poke_interval: float = POLL_SECONDS,
        **_: Any,  # allowed_states, logical_dates, …: the rest of WorkflowTrigger's, as it was used
    ) -> None:
        super().__init__(
            dag_id=external_dag_id,
            run_id=run_ids[0],
            task_id=(external_task_ids or [TRANSFORMED_TASK_ID])[0],
            failed_states=failed_states or sorted(FAILED_STATES),
            poke_interval=poke_interval,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        _, kwargs = super().serialize()  # stored again as the current trigger class
        return f"{PreviousDayTransformedTrigger.__module__}.{PreviousDayTransformedTrigger.__name__}", kwargs
