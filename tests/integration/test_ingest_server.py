"""Server mode: the provider's deferrable operator against a stand-in Airbyte public API."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import pytest
from airflow.sdk.exceptions import TaskDeferred

from liftoff.operators.airbyte_sync import AirbyteSyncFailed, AirbyteSyncOperator
from sales_api.server import BackgroundApi
from tests.airbyte_api import FakeAirbyte, Script


@pytest.fixture
def airbyte(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAirbyte]:
    # The SDK caches OAuth sessions process-wide by client id and secret: one client per server.
    fake = FakeAirbyte(client_id=f"liftoff-{uuid.uuid4().hex[:8]}")
    with BackgroundApi(app=fake.app(), health_path="/v1/health") as server:
        monkeypatch.setenv("AIRFLOW_CONN_AIRBYTE", fake.airflow_connection(server.url))
        yield fake


def sync(connection_id: str, **kwargs) -> AirbyteSyncOperator:
    return AirbyteSyncOperator(
        task_id="ingest", source="crm", airbyte_conn_id="airbyte", connection_id=connection_id, **kwargs
    )


def run_trigger(deferred: TaskDeferred, **overrides) -> dict:
    """What the triggerer does: run the trigger until its first event (fast polling here)."""
    trigger = deferred.trigger
    trigger.poll_interval = 0.05
    for name, value in overrides.items():
        setattr(trigger, name, value)

    async def first_event() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())


def test_slow_job_defers_and_the_trigger_waits_for_success(airbyte: FakeAirbyte) -> None:
    landed = []
    airbyte.scripts["conn-crm"] = Script(
        ["running", "running", "running", "succeeded"], land=lambda: landed.append(1) or 42
    )
    operator = sync("conn-crm")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    job_id = deferred.value.trigger.job_id
    event = run_trigger(deferred.value)
    assert event == {
        "status": "success",
        "message": f"Job run {job_id} has completed successfully.",
        "job_id": job_id,
    }
    operator.execute_complete({}, event)
    job = airbyte.jobs[job_id]
    assert job.reads >= 4, "the trigger polled the job until it finished"
    assert (job.status, job.rows, landed) == ("succeeded", 42, [1])


def test_finished_job_returns_without_deferring(airbyte: FakeAirbyte) -> None:
    airbyte.scripts["conn-crm"] = Script(["succeeded"])
    sync("conn-crm").execute({})  # no TaskDeferred
    [job] = airbyte.jobs.values()
    assert (job.status, job.reads) == ("succeeded", 1), "read once at creation, never polled"


def test_failed_job_names_the_connection_and_job(airbyte: FakeAirbyte) -> None:
    airbyte.scripts["conn-crm"] = Script(["running", "failed"])
    operator = sync("conn-crm")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    event = run_trigger(deferred.value)
    with pytest.raises(
        AirbyteSyncFailed, match=r"source 'crm' \(connection conn-crm, job 1\d+\): error: .*failed"
    ):
        operator.execute_complete({}, event)


def test_cancelled_job(airbyte: FakeAirbyte) -> None:
    airbyte.scripts["conn-crm"] = Script(["running", "running", "cancelled"])
    operator = sync("conn-crm")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    with pytest.raises(AirbyteSyncFailed, match=r"connection conn-crm, job \d+\): cancelled"):
        operator.execute_complete({}, run_trigger(deferred.value))


def test_incomplete_job_past_the_execution_timeout_is_cancelled(airbyte: FakeAirbyte) -> None:
    airbyte.scripts["conn-crm"] = Script(["incomplete"])
    operator = sync("conn-crm")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    event = run_trigger(deferred.value, execution_deadline=time.time() + 0.3)
    assert event["status"] == "timeout"
    job_id = event["job_id"]
    with pytest.raises(AirbyteSyncFailed, match=rf"job {job_id}\): timeout: .*execution timeout"):
        operator.execute_complete({}, event)
    assert airbyte.cancelled == [job_id] and airbyte.jobs[job_id].status == "cancelled"


def test_killed_task_cancels_its_job(airbyte: FakeAirbyte) -> None:
    airbyte.scripts["conn-crm"] = Script(["running"])
    operator = sync("conn-crm")
    with pytest.raises(TaskDeferred):
        operator.execute({})
    operator.on_kill()
    assert airbyte.cancelled == [operator.job_id]


def test_bad_credential_is_a_clear_failure(airbyte: FakeAirbyte, monkeypatch: pytest.MonkeyPatch) -> None:
    connection = json.loads(__import__("os").environ["AIRFLOW_CONN_AIRBYTE"])
    monkeypatch.setenv("AIRFLOW_CONN_AIRBYTE", json.dumps({**connection, "password": "wrong"}))
    airbyte.scripts["conn-crm"] = Script(["succeeded"])
    with pytest.raises(AirbyteSyncFailed, match=r"source 'crm' \(connection conn-crm, job None\): .*401"):
        sync("conn-crm").execute({})
    assert airbyte.jobs == {}, "no job is created without a valid token"


def test_unknown_connection(airbyte: FakeAirbyte) -> None:
    with pytest.raises(AirbyteSyncFailed, match=r"connection conn-missing, job None"):
        sync("conn-missing").execute({})


def test_a_run_told_to_skip_ingest_starts_no_sync(airbyte: FakeAirbyte) -> None:
    """`liftoff run --skip-ingest` through a running Airflow: landing is kept, as in local mode."""
    from types import SimpleNamespace

    operator = sync("conn-crm")
    assert operator.execute({"dag_run": SimpleNamespace(conf={"skip_ingest": True})}) is None
    assert airbyte.jobs == {}
