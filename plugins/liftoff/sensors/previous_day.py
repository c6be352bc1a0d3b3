"""The sensor before a day's bronze: it waits, deferred in the triggerer, until the previous
day's run has finished its dbt layers. The rules (which run is the eve, when to go, wait or
stop) are ``liftoff.transform.ordering``'s."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout

from liftoff.errors import task_errors
from liftoff.transform.ordering import (
    FAILED_RECHECK,
    FAILED_STATES,
    POLL_SECONDS,
    REPLACED_SOON,
    WAIT_HOURS,
    WAITING_RUN_TYPES,
    eve_gone,
    previous_transform,
    ready_after,
)

log = logging.getLogger(__name__)


class PreviousDayTransformedSensor(BaseSensorOperator):
    """Until the previous day's run has finished its dbt layers (its `transformed` task).

    Ready at once: it returns. An eve still going: it defers to
    ``PreviousDayTransformedTrigger`` on that run's ``transformed`` task, which the triggerer
    polls every 2 s and which ends this task itself once the eve succeeded, so the day's
    bronze starts seconds after its eve's gold (a rescheduled poke, a task process every
    20 s, cost a backfill 14 s a day). A failed eve that a backfill waits for: it looks again
    every 20 s, from the triggerer, for on-call may clear that run or replace it by another
    (``liftoff run``). Each time the trigger fires, the decision is taken again, by the same
    rules, on the eve it waited for: a run of that day gone is waited for to come back."""

    def __init__(self, *, task_id: str = "previous_day_transformed", **kwargs: Any) -> None:
        kwargs.setdefault("timeout", timedelta(hours=WAIT_HOURS).total_seconds())
        kwargs.setdefault("retries", 0)
        kwargs.setdefault(
            "doc_md",
            "Wait until the previous day's run has finished its dbt layers (its `transformed`"
            " task), deferred in the triggerer.",
        )
        super().__init__(task_id=task_id, **kwargs)

    def poke(self, context) -> bool:
        eve = previous_transform(context["ti"])
        return self.ready(context, eve.run_id, eve.state)

    def ready(self, context, run_id: str | None, state: str | None) -> bool:
        run_type = context["dag_run"].run_type  # a str, or the Task SDK's enum on resuming
        waits = getattr(run_type, "value", run_type) in WAITING_RUN_TYPES
        with task_errors():  # a failed eve, for a manual run: fails at once
            return ready_after(run_id, state, wait_on_failure=waits)

    def execute(self, context, eve: str | None = None, gone_since: str | None = None) -> None:
        """``eve``: the logical date (ISO) of the run an earlier look waited for;
        ``gone_since``: when a look first found that run gone."""
        from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

        from liftoff.triggers.previous_day import PreviousDayTransformedTrigger

        ti = context["ti"]
        found = previous_transform(ti)  # asked once per look
        if eve_gone(found, eve):
            now = datetime.now(UTC)
            since = datetime.fromisoformat(gone_since) if gone_since else now
            log.warning(
                "the run of %s, the day this one waits for, is gone: waiting for a new run of that"
                " day (liftoff run --date, or Trigger in the UI); to go on without it, mark this"
                " task success",
                eve[:10],
            )
            soon = now - since < REPLACED_SOON
            again = timedelta(seconds=POLL_SECONDS) if soon else FAILED_RECHECK
            self._look_again(context, TimeDeltaTrigger(again), eve, since.isoformat())
        if self.ready(context, found.run_id, found.state):
            return
        if found.state in FAILED_STATES:
            trigger = TimeDeltaTrigger(FAILED_RECHECK)
        else:
            trigger = PreviousDayTransformedTrigger(dag_id=ti.dag_id, run_id=found.run_id)
        self._look_again(context, trigger, found.logical_date and found.logical_date.isoformat(), None)

    def _look_again(self, context, trigger, eve: str | None, gone_since: str | None) -> NoReturn:
        """Defer until the trigger fires, within what is left of the 12 hours since the
        sensor first started (each deferral's own timeout starts anew: a failed eve,
        looked at every 20 s, would hold the day for ever)."""
        started = context["ti"].start_date or datetime.now(UTC)
        left = started + timedelta(hours=WAIT_HOURS) - datetime.now(UTC)
        if left <= timedelta(0):
            raise AirflowSensorTimeout(
                f"waited {WAIT_HOURS} hours for the previous day's transform: rerun it, then this day"
                " (docs/runbook.md, A day failed, and the days after it)"
            )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            kwargs={"eve": eve, "gone_since": gone_since},
            timeout=left,
        )

    def execute_complete(self, context, event=None, eve=None, gone_since=None) -> None:
        self.execute(context, eve, gone_since)
