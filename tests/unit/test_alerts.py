"""Alert messages: what they say, what they never say, and channels that fail."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from liftoff.config import get_settings
from liftoff.notifiers import alerts
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


def test_every_channel_is_a_notifier_and_one_refusing_hook_does_not_silence_the_email(monkeypatch) -> None:
    """The SMTP provider's notifier sends the e-mail and ours posts to the webhook, to a real
    SMTP server and HTTP server; an error's braces are text, never a template."""
    from tests.alert_sinks import SmtpSink, WebhookSink

    alert = alerts.Alert("[liftoff] sales_elt 2026-11-20: crm.ingest failed", ["error: bad {{ conf }} <b>"])
    with SmtpSink() as smtp, WebhookSink() as webhook:
        monkeypatch.setenv("LIFTOFF_ALERT_EMAIL_TO", "oncall@example.com, lead@example.com")
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp.conn_uri)
        monkeypatch.setenv("LIFTOFF_ALERT_WEBHOOK_URL", webhook.url)
        get_settings.cache_clear()
        try:
            assert sorted(type(n).__name__ for n in alerts.channels(alert).values()) == [
                "SmtpNotifier",
                "WebhookNotifier",
            ]
            assert alerts.deliver(alert) == ["email", "webhook"]
            [mail] = smtp.messages
            assert mail["Subject"] == alert.title and mail["To"] == "oncall@example.com, lead@example.com"
            body = next(part for part in mail.walk() if part.get_content_type() == "text/html")
            assert "bad {{ conf }} &lt;b&gt;" in body.get_payload(decode=True).decode()
            assert webhook.posts == [{"text": alert.text}] and "{{ conf }}" in alert.text

            with refusing_server(503) as refusing:  # the hook answers, but not with success
                monkeypatch.setenv("LIFTOFF_ALERT_WEBHOOK_URL", f"{refusing}/services/T0/very-secret-token")
                get_settings.cache_clear()
                logged = listen(monkeypatch)
                assert alerts.deliver(alert) == ["email"] and len(smtp.messages) == 2
            text = "\n".join(r.getMessage() for r in logged)
            assert "alert webhook at http://127.0.0.1:" in text and "answered HTTP 503" in text
            assert "very-secret-token" not in text
        finally:
            get_settings.cache_clear()


@contextlib.contextmanager
def refusing_server(status: int) -> Iterator[str]:
    """An HTTP server answering every POST with ``status``; its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def listen(monkeypatch) -> list[logging.LogRecord]:
    """The alert module's warnings and errors from now on, whatever Airflow did to logging."""
    logged: list[logging.LogRecord] = []
    listener = logging.Handler(logging.WARNING)
    listener.emit = logged.append
    logger = logging.getLogger(alerts.__name__)
    monkeypatch.setattr(logger, "disabled", False)
    monkeypatch.setattr(logger, "handlers", [*logger.handlers])  # the listener goes after the test
    logger.addHandler(listener)
    return logged
