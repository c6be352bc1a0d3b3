"""Alert messages: what they say, what they never say, and channels that fail."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from types import SimpleNamespace

from liftoff import alerts
from liftoff.config import get_settings
from sales_api.server import free_port


def failed_context(error: Exception) -> dict:
    ti = SimpleNamespace(
        dag_id="sales_elt",
        task_id="crm.ingest",
        run_id="scheduled__2026-11-21T00:00:00+00:00",
        try_number=3,
        log_url="http://airflow.example/dags/sales_elt/runs/x/tasks/crm.ingest?try_number=3",
    )
    run = SimpleNamespace(data_interval_start=datetime(2026, 11, 20, tzinfo=UTC))
    return {"ti": ti, "dag_run": run, "exception": error}


def test_a_failed_task_alert_names_dag_day_task_error_log_and_runbook() -> None:
    error = RuntimeError(
        "sync of crm failed: postgresql://pipeline:s3cret@db:5432/liftoff refused\nsecond line"
    )
    alert = alerts.task_failed_alert(failed_context(error))
    assert alert.title == "[liftoff] sales_elt 2026-11-20: crm.ingest failed"
    text = alert.text
    assert "task: crm.ingest" in text and "attempt: 3" in text
    assert "error: sync of crm failed: postgresql://***@db:5432/liftoff refused" in text
    assert "s3cret" not in text and "second line" not in text
    assert "log: http://airflow.example/dags/sales_elt/runs/x/tasks/crm.ingest?try_number=3" in text
    assert "runbook.md#the-sync-failed" in text


def test_no_channel_is_a_log_line_and_a_dead_webhook_never_logs_its_secret(monkeypatch) -> None:
    monkeypatch.delenv("LIFTOFF_ALERT_EMAIL_TO", raising=False)
    monkeypatch.delenv("LIFTOFF_ALERT_WEBHOOK_URL", raising=False)
    get_settings.cache_clear()
    alerts._webhook_url()  # Airflow sets its logging up on first use: before listening
    logged: list[logging.LogRecord] = []
    listener = logging.Handler(logging.WARNING)
    listener.emit = logged.append  # whatever Airflow did to the root logger and the terminal
    logger = logging.getLogger(alerts.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    logger.addHandler(listener)
    try:
        alert = alerts.Alert("[liftoff] sales_elt 2026-11-20: crm.ingest failed", ["task: crm.ingest"])
        assert alerts.deliver(alert) == []
        assert any("no alert channel took it" in r.getMessage() for r in logged)

        secret_path = "/services/T000/B000/very-secret-token"
        monkeypatch.setenv("LIFTOFF_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}{secret_path}")
        get_settings.cache_clear()
        logged.clear()
        assert alerts.deliver(alert) == []  # nobody listens: logged, not raised
        text = "\n".join(r.getMessage() for r in logged)
        assert "alert webhook at http://127.0.0.1:" in text and "very-secret-token" not in text
    finally:
        logger.removeHandler(listener)
        get_settings.cache_clear()
