"""The sensor before a day's silver. It waits, deferred in the triggerer, until the previous
day's run has finished its dbt layers. The rules (which run counts as the previous day's, and
when to go, wait or stop) live in ``liftoff.transform.ordering``."""

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
    GONE_RECHECK,
    REPLACED_SOON,
    WAIT_HOURS,
    WAITING_RUN_TYPES,
    eve_gone,
    previous_transform,
    ready_after,
)

log = logging.getLogger(__name__)


class PreviousDayTransformedSensor(BaseSensorOperator):
    """Waits until the previous day's run has finished its dbt layers (its `transformed` task).

    - Ready (no previous run, or its transform succeeded): the sensor returns at once.
    - Previous day still running: the sensor defers to ``PreviousDayTransformedTrigger`` on
      that run's ``transformed`` task. The triggerer looks at that task (every second once that
      run's own wait is over, every 5 s before) and ends this sensor itself once it succeeds,
      so the day's silver starts seconds after the previous day's gold. (A poke in reschedule
      mode starts a task process every 20 s: that cost a backfill 14 s a day.)
    - Previous day failed, in a run that waits (scheduled or backfill): the sensor looks again
      every 20 s from the triggerer, because on-call may clear that run or replace it with
      another (``liftoff run``). A manual run fails at once instead.

    Each time the trigger fires, the sensor decides again, by the same rules, about the same
    previous day's run. If that run is gone, the sensor waits for a new run of that day."""

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
        with task_errors():  # a manual run fails at once when the previous day failed
            return ready_after(run_id, state, wait_on_failure=waits)

    def execute(self, context, eve: str | None = None, gone_since: str | None = None) -> None:
        """``eve``: the logical date (ISO) of the previous day's run that an earlier look waited
        for (None on the first look). ``gone_since``: when a look first found that run gone."""
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
            again = GONE_RECHECK if soon else FAILED_RECHECK
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
        sensor first started. Each deferral's own timeout starts anew, so without this limit a
        failed previous day, checked every 20 s, would hold this day for ever."""
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
