"""Secrets stay where they belong (issue 23, case 8): an alert never logs a webhook's
credentials, and Airflow's components never get the warehouse owner's login."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from types import SimpleNamespace

from liftoff.config import get_settings
from liftoff.local.airflow_runner import airflow_env
from liftoff.notifiers import alerts
from liftoff.warehouse.location import Warehouse
from sales_api.server import free_port


def test_a_dead_webhook_never_logs_its_userinfo_or_query(monkeypatch) -> None:
    monkeypatch.delenv("LIFTOFF_ALERT_EMAIL_TO", raising=False)
    port = free_port()
    monkeypatch.setenv(
        "LIFTOFF_ALERT_WEBHOOK_URL", f"http://hookuser:hook-password@127.0.0.1:{port}/hook?token=query-secret"
    )
    get_settings.cache_clear()
    logged: list[logging.LogRecord] = []
    listener = logging.Handler(logging.WARNING)
    listener.emit = logged.append
    logger = logging.getLogger(alerts.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    logger.addHandler(listener)
    try:
        assert alerts.deliver(alerts.Alert("[liftoff] t", ["task: x"])) == []
    finally:
        logger.removeHandler(listener)
        get_settings.cache_clear()
    text = "\n".join(record.getMessage() for record in logged)
    assert f"alert webhook at http://127.0.0.1:{port} not reached" in text
    for secret in ("hookuser", "hook-password", "query-secret", "token"):
        assert secret not in text


def test_an_alert_error_line_hides_userinfo_and_query_values() -> None:
    error = RuntimeError("POST https://u:p4ss@api.example/v1/orders?api_key=k3y&page=2 failed: 500")
    ti = SimpleNamespace(
        dag_id="sales_elt", task_id="crm.ingest", run_id="r", try_number=1, log_url="http://l"
    )
    run = SimpleNamespace(data_interval_start=datetime(2026, 11, 20, tzinfo=UTC))
    text = alerts.task_failed_alert({"ti": ti, "dag_run": run, "exception": error}).text
    assert "error: POST https://***@api.example/v1/orders?api_key=***&page=*** failed: 500" in text
    assert "p4ss" not in text and "k3y" not in text


def test_redact_url_keeps_where_it_points() -> None:
    assert alerts.redact_url("http://a:b@h:1/p?x=1") == "http://***@h:1/p?x=***"
    assert alerts.redact_url("http://h/p") == "http://h/p"
    assert alerts.url_location("https://u:p@[::1]:8443/s?t=1") == "https://[::1]:8443"


def test_airflow_components_never_get_the_owners_login(monkeypatch, tmp_path) -> None:
    owner_url = "postgresql://owner:owner-secret@db:5432/liftoff"
    for name, value in {
        "LIFTOFF_WAREHOUSE_URL": owner_url,
        "DB_HOST_PROD": "db",
        "DB_USER_PROD": "owner",
        "DB_PASS_PROD": "owner-secret",
        "AIRFLOW_CONN_WAREHOUSE": owner_url,
        "LIFTOFF_ANALYST_PASSWORD": "analyst-secret",
        "LIFTOFF_SOME_SETTING": "kept",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LIFTOFF_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        pipeline = Warehouse("db", 5432, "liftoff", "pipeline", "pipeline-secret")
        env = airflow_env(get_settings(), pipeline, "http://127.0.0.1:8765")
    finally:
        get_settings.cache_clear()
    assert not [name for name, value in env.items() if "owner-secret" in value or "analyst-secret" in value]
    assert "LIFTOFF_WAREHOUSE_URL" not in env and "DB_USER_PROD" not in env
    assert env["AIRFLOW_CONN_WAREHOUSE"] == pipeline.airflow_conn_uri
    assert env["LIFTOFF_SOME_SETTING"] == "kept"


def test_the_connector_process_gets_none_of_the_tasks_secrets(monkeypatch) -> None:
    from liftoff.ingest.local import connector_env

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://u:secret@mail")
    monkeypatch.setenv("LIFTOFF_ALERT_WEBHOOK_URL", "https://hooks.example/T/secret")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgresql://pipeline:secret@db/wh")
    env = connector_env()
    assert "secret" not in "".join(env.values()) and env["AIRBYTE_OFFLINE_MODE"] == "1"
    assert env["PATH"] == os.environ["PATH"]
