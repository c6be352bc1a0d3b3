"""The quiet day's approval: asked only when a stream dropped; approve goes on, reject and
no decision fail saying who and why; under `liftoff run` it fails at once, naming the way out."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from liftoff.operators.low_volume import LowVolumeApprovalOperator

DROP = "batch crm.sales.20261120T0000 landed 3 rows, under 25% of the median of its last 5 days (52)"


def operator(**validated) -> LowVolumeApprovalOperator:
    return LowVolumeApprovalOperator(task_id="approve_low_volume", source="crm", validated=validated)


def context() -> dict:
    return {"dag_run": SimpleNamespace(data_interval_start=datetime(2026, 11, 20, tzinfo=UTC))}


def answer(option: str, reason: str = "", user: str | None = "Ada") -> dict:
    return {
        "chosen_options": [option],
        "params_input": {"reason": reason},
        "responded_at": datetime.now(UTC),
        "responded_by_user": {"id": "1", "name": user} if user else None,
    }


def test_a_day_within_its_volume_is_not_asked() -> None:
    task = operator(sales={"landed": 50, "volume_drop": None}, sellers={"landed": 4})
    assert task.drops() == [] and task.execute(context()) is None


def test_under_liftoff_run_a_quiet_day_fails_at_once_naming_the_flag(monkeypatch) -> None:
    monkeypatch.setenv("LIFTOFF_APPROVALS", "false")
    from liftoff.config import get_settings

    get_settings.cache_clear()
    try:
        with pytest.raises(AirflowFailException) as info:
            operator(sales={"landed": 3, "volume_drop": DROP}).execute(context())
    finally:
        get_settings.cache_clear()
    message = str(info.value)
    assert message.startswith(DROP) and "--accept-low-volume" in message and "\n" not in message


def test_approve_goes_on_and_reject_fails_with_who_and_why() -> None:
    task = operator(sales={"landed": 3, "volume_drop": DROP})
    approved = task.execute_complete(context(), answer("Approve", "Black Friday closed the shops"))
    assert approved == {"approved": True, "by": "Ada", "reason": "Black Friday closed the shops"}
    with pytest.raises(AirflowFailException) as info:
        task.execute_complete(context(), answer("Reject", "  the export was cut short  "))
    assert str(info.value) == "crm 2026-11-20: the quiet day was rejected by Ada: the export was cut short"
    with pytest.raises(AirflowFailException, match="rejected by Ada: no reason given"):
        task.execute_complete(context(), answer("Reject"))


def test_no_decision_in_twelve_hours_fails_saying_so() -> None:
    task = operator(sales={"landed": 3, "volume_drop": DROP})
    assert task.response_timeout.total_seconds() == 12 * 3600
    timeout = {"error": "The Human-in-the-loop response timeout has passed", "error_type": "timeout"}
    with pytest.raises(
        AirflowFailException, match="nobody approved or rejected the quiet day within 12 hours"
    ):
        task.execute_complete(context(), timeout)


def test_an_option_that_is_not_offered_is_refused() -> None:
    with pytest.raises(ValueError, match="not in"):
        operator(sales={"volume_drop": DROP}).execute_complete(context(), answer("Maybe"))


def test_the_alert_links_the_approval_and_the_runbook() -> None:
    from liftoff.notifiers.alerts import approval_alert

    link = "http://airflow:8080/dags/sales_elt/runs/r1/tasks/crm.approve_low_volume/required_actions?map_index=-1"
    alert = approval_alert({"ti": SimpleNamespace(dag_id="sales_elt")}, "crm", "2026-11-20", [DROP], link, 12)
    assert (
        alert.title == "[liftoff] sales_elt 2026-11-20: crm is far quieter than usual: approve or reject it"
    )
    assert alert.lines[0] == DROP and f"decide: {link}" in alert.lines
    assert alert.lines[-1].endswith("docs/runbook.md#a-day-is-far-quieter-than-usual")
    assert any("no decision in 12 hours it fails" in line for line in alert.lines)
