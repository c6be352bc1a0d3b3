"""Day order for the transform: a day's silver and gold start once the previous day's layers
have finished.

Silver's outlier window and gold's trailing windows read earlier days, so the transform of
day D must see day D - 1's, and day D's silver must not change what day D - 1's gold reads.
Ingest, validation, archiving and bronze need no order (each replaces only its day's slice, or
a reference stream's snapshot in place, which landing holds one of anyway): a backfill's runs
sync in parallel (up to its ``--max-active-runs``) and build bronze one day at a time beside
earlier days' silver and gold, which go one day after another.

A sensor waits for the previous run (by logical date) to finish its ``transformed`` task:

- No previous run (the first day, or a gap): the sensor passes.
- The previous run is still going: the sensor waits for it.
- The previous transform failed: a scheduled or backfill run keeps waiting (up to 12 hours)
  and logs which run to clear. So a backfill heals: once on-call clears the failed day and
  it succeeds, the days after it go on by themselves. A manual run (``liftoff run``, a
  trigger) fails at once instead and names the day to rerun first, because nobody else will.

The sensor waits deferred, and no worker slot is held: the triggerer looks at the previous
run every second once that run's own wait is over (its silver and gold under way), and every
5 s while the previous run still waits for its own previous day.

The previous day's run can disappear while a day waits for it. ``liftoff run`` replaces a
failed backfill day by deleting its run and then triggering a new one (on-call does the same
by hand in the UI, minutes apart). In between, the previous run by logical date is the run
of the day before the deleted one, which has finished, so this day would transform without
the day it needs. To prevent this,
the sensor remembers the logical date of the run it waited for. While that day has no run,
the sensor waits for the new one, as it waits for a failed run. To go on without it, mark
the sensor success.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from liftoff.errors import Permanent

log = logging.getLogger(__name__)

TRANSFORMED_TASK_ID = "transformed"
FAILED_STATES = {"failed", "upstream_failed", "skipped", "removed"}
WAITING_RUN_TYPES = {"scheduled", "backfill"}  # runs that wait for a failed previous day to be cleared


class PreviousDayFailed(Permanent):
    """The previous day's transform did not succeed: rerun that day first."""


class Eve(NamedTuple):
    """The previous day's run ("eve" in names here): the run before this one by logical date,
    and the state of its ``transformed`` task. All fields are None when there is no previous
    run; ``state`` is None when the task is not scheduled yet."""

    run_id: str | None
    state: str | None
    logical_date: datetime | None


MAX_SKIPPED_RUNS = 100  # at most this many runs of part of a day are skipped to find the previous day's run


def whole_day(logical_date: datetime) -> bool:
    """Whether a run of this logical date is a whole day's (00:00 UTC: scheduled, backfilled,
    ``liftoff run --date``), not a partial day's or a trigger at another time of a day."""
    return logical_date.astimezone(UTC).time() == datetime.min.time()


def _previous_before(dag_id: str, logical_date: datetime):
    """The run of ``dag_id`` before ``logical_date`` (the Task SDK's own request)."""
    from airflow.sdk.execution_time.comms import GetPreviousDagRun
    from airflow.sdk.execution_time.task_runner import SUPERVISOR_COMMS

    return SUPERVISOR_COMMS.send(msg=GetPreviousDagRun(dag_id=dag_id, logical_date=logical_date)).dag_run


def previous_whole_day_run(ti):
    """The run before this one by logical date that covers a whole day.

    A partial day's run (``--partial-day``, logical date now) or a trigger at another time of
    day can sit between day D's run and day D + 1's. Day D + 1 waits for D's run, not for it.
    """
    previous = ti.get_previous_dagrun()
    for _ in range(MAX_SKIPPED_RUNS):
        if previous is None or previous.logical_date is None or whole_day(previous.logical_date):
            break
        previous = _previous_before(ti.dag_id, previous.logical_date)
    return previous


def previous_transform(ti) -> Eve:
    """The run before this one (of a whole day), and how far its transform is."""
    previous = previous_whole_day_run(ti)
    if previous is None:
        return Eve(None, None, None)
    states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[TRANSFORMED_TASK_ID], run_ids=[previous.run_id])
    return Eve(
        previous.run_id, states.get(previous.run_id, {}).get(TRANSFORMED_TASK_ID), previous.logical_date
    )


def previous_day_ready(ti, *, wait_on_failure: bool = False) -> bool:
    """Whether this run may transform: True to go, False to wait; PreviousDayFailed to stop.

    ``ti`` is the Task SDK's task instance (``get_previous_dagrun``, ``get_task_states``).
    ``wait_on_failure``: a failed previous transform is waited for (to be cleared and to
    succeed) instead of stopping this run.
    """
    eve = previous_transform(ti)
    return ready_after(eve.run_id, eve.state, wait_on_failure=wait_on_failure)


def ready_after(run_id: str | None, state: str | None, *, wait_on_failure: bool) -> bool:
    """``previous_day_ready``'s decision, from the previous run's id and transform state."""
    if run_id is None:
        return True
    if state in FAILED_STATES:
        if wait_on_failure:
            log.warning(
                "the previous run %s did not finish its transform (%s): waiting for it to be cleared"
                " and to succeed (docs/runbook.md, A day failed, and the days after it)",
                run_id,
                state,
            )
            return False
        raise PreviousDayFailed(
            f"the previous run {run_id} did not finish its transform ({state}): rerun that day, then this one"
        )
    return state == "success"


# How often the triggerer looks at the previous day's run (no worker slot, no process): one request
# to the API server each time, for each day waiting (2 or 3 in a backfill). Every second once
# the previous run's own wait is over (its silver, gold and `transformed` take 6 s or more);
# while it still waits for its own previous day, that is at least one more day's silver and
# gold away, so every IDLE_POLL_SECONDS: it sees the previous run's wait end within 5 s, still
# before its transform ends. In a month's backfill a day waits about three days' transforms,
# and most of the triggerer's looks (and the API server's answers) were at runs still waiting.
POLL_SECONDS = 1.0
IDLE_POLL_SECONDS = 5.0
FAILED_RECHECK = timedelta(seconds=20)  # previous day failed: check again this often (cleared? replaced?)
WAIT_HOURS = 12
# Previous day's run gone: the sensor looks again every GONE_RECHECK for REPLACED_SOON, then every
# FAILED_RECHECK (`liftoff run` triggers the new run within a second of deleting the old one).
# Each of these looks is a task process, not the triggerer's request.
GONE_RECHECK = timedelta(seconds=2)
REPLACED_SOON = timedelta(minutes=1)


def eve_gone(eve: Eve, waited_for: str | None) -> bool:
    """Whether the previous day's run that this day waited for is gone. ``waited_for`` is that
    run's logical date (ISO); the run is gone when the previous run found now is of an earlier
    day, or there is none."""
    if waited_for is None:
        return False
    return eve.logical_date is None or eve.logical_date < datetime.fromisoformat(waited_for)


def dbt_tests(context) -> dict[str, dict]:
    """This run's dbt test results per model, as its dbt tasks pushed them
    (``liftoff.transform.test_results``)."""
    from liftoff.config import LAYERS
    from liftoff.transform.test_results import XCOM_KEY, gathered_tests

    dbt_tasks = [task_id for task_id in context["dag"].task_ids if task_id.split(".")[0] in LAYERS]
    return gathered_tests(context["ti"].xcom_pull(task_ids=dbt_tasks, key=XCOM_KEY) or [])


def transform_done(conn_id: str = "warehouse"):
    """The marker the next day's wait looks for; it logs the day in ``audit.refreshes`` and
    updates the gold assets (``liftoff.transform.gold_assets``) with the day and the tests of
    each table in their extra."""
    from airflow.sdk import get_current_context

    from liftoff.batch import Interval
    from liftoff.lineage import lineage_task, transformed_lineage
    from liftoff.transform.gold_assets import gold_assets, gold_tables
    from liftoff.warehouse.location import airflow_warehouse
    from liftoff.warehouse.refreshes import record_refresh

    assets = gold_assets()

    @lineage_task(
        task_id=TRANSFORMED_TASK_ID,
        outlets=assets,
        lineage=transformed_lineage(list(gold_tables())),
        doc_md="Every dbt layer of this day succeeded: log it in `audit.refreshes` (read as"
        " `gold.gold_refreshes`, the dashboards' freshness) and update the gold assets.",
    )
    def transformed() -> None:
        context = get_current_context()
        interval = Interval(context["data_interval_start"], context["data_interval_end"])
        with airflow_warehouse(conn_id).connect() as conn:
            record_refresh(conn, interval, context["run_id"])
        tests = dbt_tests(context)
        for table, asset in zip(gold_tables(), assets, strict=True):
            context["outlet_events"][asset].extra = {
                "day": interval.day.isoformat(),
                "run_id": context["run_id"],
                "tests": tests.get(table, {}),  # its dbt tests' results in this run
            }

    return transformed()
