"""The transform gate's decision from the previous run's state."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from liftoff.transform.ordering import TRANSFORMED_TASK_ID, PreviousDayFailed, previous_day_ready


@dataclass
class PreviousRun:
    run_id: str


@dataclass
class FakeTaskInstance:
    """What the Task SDK's RuntimeTaskInstance answers, for a given history."""

    previous: PreviousRun | None
    states: dict = field(default_factory=dict)
    dag_id: str = "sales_elt"

    def get_previous_dagrun(self):
        return self.previous

    def get_task_states(self, dag_id, task_ids, run_ids):
        assert dag_id == "sales_elt" and task_ids == [TRANSFORMED_TASK_ID]
        return {run_id: self.states[run_id] for run_id in run_ids if run_id in self.states}


def test_the_first_run_or_a_gap_goes() -> None:
    assert previous_day_ready(FakeTaskInstance(previous=None)) is True


def test_goes_once_the_previous_transform_succeeded() -> None:
    ti = FakeTaskInstance(
        PreviousRun("backfill__2026-11-19"), {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: "success"}}
    )
    assert previous_day_ready(ti) is True


@pytest.mark.parametrize("state", [None, "scheduled", "queued", "running", "up_for_reschedule"])
def test_waits_while_the_previous_transform_is_unfinished(state) -> None:
    states = {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: state}} if state else {}
    assert previous_day_ready(FakeTaskInstance(PreviousRun("backfill__2026-11-19"), states)) is False


@pytest.mark.parametrize("state", ["failed", "upstream_failed", "skipped"])
def test_stops_at_once_when_the_previous_transform_failed(state) -> None:
    ti = FakeTaskInstance(
        PreviousRun("backfill__2026-11-19"), {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: state}}
    )
    with pytest.raises(
        PreviousDayFailed, match=f"backfill__2026-11-19 did not finish its transform \\({state}\\)"
    ):
        previous_day_ready(ti)


@pytest.mark.parametrize("state", ["failed", "upstream_failed"])
def test_a_backfill_or_scheduled_run_waits_for_a_failed_previous_day_to_be_cleared(state) -> None:
    history = {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: state}}
    ti = FakeTaskInstance(PreviousRun("backfill__2026-11-19"), history)
    assert previous_day_ready(ti, wait_on_failure=True) is False, "waits: the day may yet be cleared"
    history["backfill__2026-11-19"] = {TRANSFORMED_TASK_ID: None}  # cleared: running again
    assert previous_day_ready(ti, wait_on_failure=True) is False
    history["backfill__2026-11-19"] = {TRANSFORMED_TASK_ID: "success"}
    assert previous_day_ready(ti, wait_on_failure=True) is True, "goes on by itself"


def test_only_scheduled_and_backfill_runs_wait() -> None:
    from liftoff.transform.ordering import WAITING_RUN_TYPES

    assert {"scheduled", "backfill"} == WAITING_RUN_TYPES  # a manual run (liftoff run) stops at once
