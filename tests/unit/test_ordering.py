"""The transform gate's decision from the previous run's state."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.api.datamodels._generated import DagRunType

from liftoff.transform.ordering import (
    FAILED_STATES,
    TRANSFORMED_TASK_ID,
    PreviousDayFailed,
    previous_day_ready,
)
from liftoff.triggers.previous_day import PreviousDayTransformedTrigger


@dataclass
class PreviousRun:
    run_id: str
    logical_date: datetime = datetime(2026, 11, 19, tzinfo=UTC)


@dataclass
class FakeTaskInstance:
    """What the Task SDK's RuntimeTaskInstance answers, for a given history."""

    previous: PreviousRun | None
    states: dict = field(default_factory=dict)
    dag_id: str = "sales_elt"
    start_date: datetime | None = None  # the sensor's first start (kept across its deferrals)

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


@pytest.mark.parametrize(
    ("run_type", "waits"),
    [("scheduled", True), ("backfill", True), ("manual", False), ("asset_triggered", False)],
)
def test_only_scheduled_and_backfill_runs_wait_for_a_failed_eve(run_type: str, waits: bool) -> None:
    """A manual run (`liftoff run`) stops at once: a person is there to rerun the eve."""
    from airflow.sdk.exceptions import AirflowFailException

    history = {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: "failed"}}
    ti = FakeTaskInstance(PreviousRun("backfill__2026-11-19"), history)
    if waits:
        assert _sensor_outcome(ti, run_type=run_type) is not None
    else:
        with pytest.raises(AirflowFailException, match="rerun that day, then this one"):
            _sensor_outcome(ti, run_type=run_type)


def _sensor_deferral(ti: FakeTaskInstance, run_type="backfill", **resumed):
    """Run the DAG's sensor once (``resumed``: the kwargs of its last deferral): None when it
    passes, else its deferral (the trigger and the kwargs it resumes with)."""
    from types import SimpleNamespace

    from airflow.sdk.exceptions import TaskDeferred

    from liftoff.sensors.previous_day import PreviousDayTransformedSensor

    sensor = PreviousDayTransformedSensor()
    context = {"ti": ti, "dag_run": SimpleNamespace(run_type=run_type)}
    try:
        if resumed:
            sensor.execute_complete(context, event=None, **resumed)
        else:
            sensor.execute(context)
    except TaskDeferred as deferred:
        assert deferred.method_name == "execute_complete"
        return deferred
    return None


def _sensor_outcome(ti: FakeTaskInstance, run_type="backfill", **resumed):
    """None when the sensor passes, else the trigger it defers to."""
    deferral = _sensor_deferral(ti, run_type, **resumed)
    return deferral and deferral.trigger


def test_the_sensor_waits_deferred_on_the_previous_runs_transform() -> None:
    history = {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: "running"}}
    ti = FakeTaskInstance(PreviousRun("backfill__2026-11-19"), history)
    trigger = _sensor_outcome(ti)
    assert isinstance(trigger, PreviousDayTransformedTrigger), "waits in the triggerer"
    assert (trigger.eve_dag_id, trigger.eve_run_id, trigger.eve_task_id) == (
        "sales_elt",
        "backfill__2026-11-19",
        TRANSFORMED_TASK_ID,
    )
    assert "failed" in trigger.failed_states and "success" not in trigger.failed_states
    assert trigger.poke_interval <= 5, "a day's silver starts seconds after its eve's gold"

    # a failed eve a backfill waits for: looked at again on a timer, as on-call may clear it
    # or replace the run by another (a trigger pinned to the old run would wait forever)
    history["backfill__2026-11-19"] = {TRANSFORMED_TASK_ID: "failed"}
    waiting = _sensor_outcome(ti)
    assert type(waiting).__name__ in {"TimeDeltaTrigger", "DateTimeTrigger"}
    # resumed from the trigger, the Task SDK gives the run type as its enum, not a str
    assert type(_sensor_outcome(ti, run_type=DagRunType.BACKFILL)).__name__ == type(waiting).__name__
    ti.previous = PreviousRun("manual__2026-11-30T09:36:59")  # replaced: the new run is the eve now
    history["manual__2026-11-30T09:36:59"] = {TRANSFORMED_TASK_ID: "success"}
    assert _sensor_outcome(ti) is None
    ti.previous = PreviousRun("backfill__2026-11-19")

    history["backfill__2026-11-19"] = {TRANSFORMED_TASK_ID: "success"}
    assert _sensor_outcome(ti) is None
    assert _sensor_outcome(FakeTaskInstance(previous=None)) is None, "the first day goes at once"


def test_the_sensor_fails_a_manual_run_after_a_failed_day() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    history = {"manual__2026-11-19": {TRANSFORMED_TASK_ID: "failed"}}
    with pytest.raises(AirflowFailException, match="rerun that day, then this one"):
        _sensor_outcome(FakeTaskInstance(PreviousRun("manual__2026-11-19"), history), run_type="manual")


def test_a_waiting_day_never_takes_an_earlier_day_for_its_eve_while_its_eve_is_replaced() -> None:
    """`liftoff run` replaces a failed backfill day: it deletes the run, then triggers the new
    one. A look between the two finds the day before the eve (done) as the previous run: the
    day must wait for its eve's new run, not transform without it."""
    eve, before = datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 18, tzinfo=UTC)
    history = {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: "failed"}}
    ti = FakeTaskInstance(PreviousRun("backfill__2026-11-19", eve), history)
    waiting = _sensor_deferral(ti)
    assert waiting.kwargs == {"eve": eve.isoformat(), "gone_since": None}, "it remembers its eve"

    ti.previous = PreviousRun("backfill__2026-11-18", before)  # the eve's run deleted, not yet anew
    history["backfill__2026-11-18"] = {TRANSFORMED_TASK_ID: "success"}
    gone = _sensor_deferral(ti, **waiting.kwargs)
    assert gone is not None, "the day before the eve is not this day's eve"
    assert gone.kwargs["eve"] == eve.isoformat() and gone.kwargs["gone_since"]
    soon = gone.trigger.serialize()[1]["moment"] - datetime.now(UTC)
    assert soon <= timedelta(seconds=5), "it looks again soon: the new run comes within a second"
    assert soon > timedelta(seconds=1.5), "each such look is a task process: not as often as the trigger's"

    ti.previous = PreviousRun("manual__2026-11-30T09:36:59", eve)  # the replacement, running
    history["manual__2026-11-30T09:36:59"] = {TRANSFORMED_TASK_ID: "running"}
    replaced = _sensor_deferral(ti, **gone.kwargs)
    assert isinstance(replaced.trigger, PreviousDayTransformedTrigger)
    assert replaced.trigger.eve_run_id == "manual__2026-11-30T09:36:59"
    history["manual__2026-11-30T09:36:59"] = {TRANSFORMED_TASK_ID: "success"}
    assert _sensor_outcome(ti, **replaced.kwargs) is None, "goes once the new run of its eve is done"


def test_an_eve_deleted_by_hand_holds_its_day_until_a_new_run_of_it_comes() -> None:
    """In the UI, on-call deletes the run and triggers the day, minutes apart: the day keeps
    waiting, looking less often after a minute."""
    eve = datetime(2026, 11, 19, tzinfo=UTC)
    ti = FakeTaskInstance(PreviousRun("backfill__2026-11-18", eve - timedelta(days=1)))
    ti.states["backfill__2026-11-18"] = {TRANSFORMED_TASK_ID: "success"}
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    still = _sensor_deferral(ti, eve=eve.isoformat(), gone_since=an_hour_ago)
    assert still is not None and still.kwargs == {"eve": eve.isoformat(), "gone_since": an_hour_ago}
    later = still.trigger.serialize()[1]["moment"] - datetime.now(UTC)
    assert timedelta(seconds=10) < later <= timedelta(seconds=20), "no task process every 2 s for hours"


def _trigger(monkeypatch, answer) -> PreviousDayTransformedTrigger:
    """A trigger on the eve's run, the triggerer's Task SDK answering each of its requests with
    ``answer(request)``."""
    import airflow.sdk.execution_time.task_runner as task_runner

    class Comms:
        def send(self, msg):
            return answer(msg)

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", Comms(), raising=False)
    return PreviousDayTransformedTrigger(
        dag_id="sales_elt", run_id="backfill__2026-11-19", poke_interval=0.01
    )


def _first_event(trigger: PreviousDayTransformedTrigger):
    import asyncio

    async def first_event():
        return await anext(trigger.run())

    return asyncio.run(first_event())


@pytest.mark.parametrize(
    ("counted", "ends"),
    [("success", "TaskSuccessEvent"), ("failed", "TriggerEvent"), ("gone", "TriggerEvent")],
)
def test_the_eves_success_ends_the_sensor_in_the_triggerer_and_anything_else_resumes_it(
    counted, ends
) -> None:
    """No task process only to return; a failed eve goes back to the sensor's rules. The
    triggerer builds the trigger again from what it serializes."""
    from airflow.triggers.base import TaskSuccessEvent

    made = PreviousDayTransformedTrigger(
        dag_id="sales_elt", run_id="backfill__2026-11-19", failed_states=["failed"], poke_interval=0.01
    )
    classpath, kwargs = made.serialize()
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)
    looks = []

    async def states():  # what the triggerer's Task SDK call answers for the eve's tasks
        looks.append(1)
        return (
            {}
            if counted == "gone" and len(looks) > 2
            else {TRANSFORMED_TASK_ID: counted if len(looks) > 2 else "running"}
        )

    trigger.states = states

    event = _first_event(trigger)
    assert type(event).__name__ == ends and len(looks) > 2, "it polls until the eve is done"
    assert isinstance(event, TaskSuccessEvent) == (counted == "success")
    if counted != "success":  # the sensor resumes and decides (a gone eve: waits for its new run)
        assert event.payload == {"status": counted}


def test_a_day_waits_twelve_hours_from_its_first_look_not_from_its_last() -> None:
    """A failed eve is looked at every 20 s, each look a new deferral: its own timeout would
    start anew each time and the day would wait for ever."""
    from airflow.sdk.exceptions import AirflowSensorTimeout

    from liftoff.transform.ordering import WAIT_HOURS

    history = {"backfill__2026-11-19": {TRANSFORMED_TASK_ID: "failed"}}
    ti = FakeTaskInstance(PreviousRun("backfill__2026-11-19"), history)
    ti.start_date = datetime.now(UTC) - timedelta(hours=WAIT_HOURS - 1)
    left = _sensor_deferral(ti).timeout
    assert timedelta(minutes=59) < left <= timedelta(hours=1), left
    ti.start_date = datetime.now(UTC) - timedelta(hours=WAIT_HOURS, seconds=1)
    with pytest.raises(AirflowSensorTimeout, match="waited 12 hours for the previous day's transform"):
        _sensor_deferral(ti)


def test_a_partial_days_run_is_never_the_eve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Day D's partial run (logical date D 15:00) sits between D's run and D + 1's: D + 1
    waits for D's own run, not for the partial one that already transformed."""
    from liftoff.transform import ordering

    day = PreviousRun("scheduled__2026-11-19", datetime(2026, 11, 19, tzinfo=UTC))
    partials = [
        PreviousRun("manual__2026-11-19T15", datetime(2026, 11, 19, 15, tzinfo=UTC)),
        PreviousRun("manual__2026-11-19T09", datetime(2026, 11, 19, 9, 30, tzinfo=UTC)),
    ]
    history = {partials[0].logical_date: partials[1], partials[1].logical_date: day}
    monkeypatch.setattr(ordering, "_previous_before", lambda dag_id, before: history[before])
    states = {
        partials[0].run_id: {TRANSFORMED_TASK_ID: "success"},
        partials[1].run_id: {TRANSFORMED_TASK_ID: "success"},
        day.run_id: {TRANSFORMED_TASK_ID: "running"},
    }
    ti = FakeTaskInstance(partials[0], states)
    assert previous_day_ready(ti) is False, "the day's own run is still transforming"
    states[day.run_id] = {TRANSFORMED_TASK_ID: "success"}
    assert previous_day_ready(ti) is True


def test_a_sensor_deferred_by_the_previous_release_still_loads_in_the_triggerer() -> None:
    """What the previous release stored (its classpath, the standard provider's arguments)
    builds today's trigger on the same run; stored again, it is today's."""
    stored = (
        "liftoff.transform.eve_trigger.EveTransformedTrigger",
        {
            "external_dag_id": "sales_elt",
            "run_ids": ["backfill__2026-11-19"],
            "external_task_ids": [TRANSFORMED_TASK_ID],
            "allowed_states": ["success"],
            "failed_states": ["failed", "upstream_failed"],
            "poke_interval": 2.0,
            "logical_dates": None,
            "soft_fail": False,
        },
    )
    module, _, name = stored[0].rpartition(".")
    loaded = getattr(importlib.import_module(module), name)(**stored[1])
    assert isinstance(loaded, PreviousDayTransformedTrigger)
    assert (loaded.eve_dag_id, loaded.eve_run_id, loaded.eve_task_id) == (
        "sales_elt",
        "backfill__2026-11-19",
        TRANSFORMED_TASK_ID,
    )
    assert loaded.failed_states == ["failed", "upstream_failed"]
    classpath, kwargs = loaded.serialize()
    assert classpath == "liftoff.triggers.previous_day.PreviousDayTransformedTrigger"
    module, _, name = classpath.rpartition(".")
    assert getattr(importlib.import_module(module), name)(**kwargs).eve_run_id == "backfill__2026-11-19"


def test_a_deadline_stored_by_the_previous_release_still_alerts() -> None:
    from liftoff.notifiers.alerts import on_run_late

    assert importlib.import_module("liftoff.alerts").on_run_late is on_run_late


def test_the_trigger_counts_the_eves_transform_whatever_sensor_it_runs_for(monkeypatch) -> None:
    """The triggerer gives a trigger its sensor's task instance (BaseTrigger sets ``task_id`` to
    the sensor's): the trigger still asks about the eve's ``transformed`` task, on the eve's run."""
    from types import SimpleNamespace

    from airflow.sdk.execution_time.comms import TaskStatesResult

    asked = []

    def answer(msg):
        asked.append(msg)
        state = "running" if len(asked) < 3 else "success"  # the eve's run exists, its task running
        return TaskStatesResult(task_states={msg.run_ids[0]: {msg.task_ids[0]: state}})

    trigger = _trigger(monkeypatch, answer)
    trigger.task_instance = SimpleNamespace(task_id="previous_day_transformed", dag_id="sales_elt")
    assert trigger.task_id == "previous_day_transformed", "as the triggerer leaves it"

    assert type(_first_event(trigger)).__name__ == "TaskSuccessEvent"
    assert len(asked) == 3, "one request a look"
    assert {(m.dag_id, tuple(m.task_ids), tuple(m.run_ids)) for m in asked} == {
        ("sales_elt", (TRANSFORMED_TASK_ID, "previous_day_transformed"), ("backfill__2026-11-19",))
    }, "the eve's transform, and the eve's own wait (this sensor's task in the eve's run)"


@pytest.mark.parametrize(
    ("answers", "ends"),
    [
        # cleared (no state yet), then running, then done: it waits, then ends the sensor
        ([None, None, "running", "success"], {"type": "TaskSuccessEvent"}),
        # each state the sensor counts as a failed eve, with the trigger's own defaults
        *(([None, state], {"type": "TriggerEvent", "status": "failed"}) for state in sorted(FAILED_STATES)),
    ],
)
def test_the_trigger_waits_while_the_eve_has_no_state_and_stops_on_any_failed_one(
    monkeypatch, answers, ends
) -> None:
    """A cleared eve's task has no state (None), which is not a gone run: the day waits."""
    from airflow.sdk.execution_time.comms import TaskStatesResult

    left = iter(answers)
    event = _first_event(
        _trigger(
            monkeypatch,
            lambda msg: TaskStatesResult(task_states={msg.run_ids[0]: {msg.task_ids[0]: next(left)}}),
        )
    )
    assert next(left, "all read") == "all read", "one look per answer, none skipped"
    assert {"type": type(event).__name__, **(event.payload if ends.get("status") else {})} == ends


def test_the_trigger_finds_the_eves_run_gone_when_the_api_knows_no_such_task(monkeypatch) -> None:
    """The API server answers no state for a deleted run's task: the sensor resumes and waits
    for the day's new run (``liftoff run`` replaces a failed day by deleting its run)."""
    from airflow.sdk.execution_time.comms import TaskStatesResult

    event = _first_event(_trigger(monkeypatch, lambda msg: TaskStatesResult(task_states={})))
    assert type(event).__name__ == "TriggerEvent" and event.payload == {"status": "gone"}


def test_the_trigger_looks_less_often_while_the_eve_still_waits_for_its_own_eve(monkeypatch) -> None:
    """In a backfill most of a day's wait is its eve waiting for the day before: the trigger
    asks about the eve's wait with its transform, in one request, and looks every 5 s until
    that wait is over, then every second."""
    import asyncio
    from types import SimpleNamespace

    from airflow.sdk.execution_time.comms import TaskStatesResult

    from liftoff.transform.ordering import IDLE_POLL_SECONDS, POLL_SECONDS

    eve_wait = ["deferred", None, "success", "success"]  # None: the eve's run cleared
    asked, slept = [], []

    def answer(msg):
        asked.append(tuple(msg.task_ids))
        done = "success" if len(asked) == len(eve_wait) else None
        states = {TRANSFORMED_TASK_ID: done, "previous_day_transformed": eve_wait[len(asked) - 1]}
        return TaskStatesResult(task_states={msg.run_ids[0]: states})

    async def sleep(seconds):
        slept.append(seconds)

    trigger = _trigger(monkeypatch, answer)
    trigger.task_instance = SimpleNamespace(task_id="previous_day_transformed", dag_id="sales_elt")
    monkeypatch.setattr(asyncio, "sleep", sleep)
    assert type(_first_event(trigger)).__name__ == "TaskSuccessEvent"
    assert asked == [(TRANSFORMED_TASK_ID, "previous_day_transformed")] * 4, "one request a look"
    assert slept == [IDLE_POLL_SECONDS, IDLE_POLL_SECONDS, trigger.poke_interval]
    assert IDLE_POLL_SECONDS > POLL_SECONDS
    # a failed eve's wait, or none in its run (an older version of the DAG): every second
    assert trigger.next_look({"previous_day_transformed": "failed"}) == trigger.poke_interval
    assert trigger.next_look({TRANSFORMED_TASK_ID: None}) == trigger.poke_interval
    # not loaded by a triggerer (no sensor's task id): every second
    unloaded = PreviousDayTransformedTrigger(dag_id="sales_elt", run_id="backfill__2026-11-19")
    assert unloaded.next_look({"previous_day_transformed": "deferred"}) == POLL_SECONDS


def test_what_the_trigger_stores_loads_in_the_previous_and_the_next_release() -> None:
    """A rolling upgrade (or a rollback) has triggerers of two releases at once: the trigger
    stores what the previous release stored, and loads what a later one may add."""
    made = PreviousDayTransformedTrigger(dag_id="sales_elt", run_id="backfill__2026-11-19")
    classpath, kwargs = made.serialize()
    assert set(kwargs) == {"dag_id", "run_id", "task_id", "failed_states", "poke_interval"}
    module, _, name = classpath.rpartition(".")
    later = getattr(importlib.import_module(module), name)(**kwargs, added_by_a_later_release=1)
    assert later.serialize() == (classpath, kwargs)
