"""Alerts: one message per task that failed after its retries, per run still unfinished
a set time after it was queued (Airflow's deadline alerts), per sync that found its
source's schema changed (the changes it found first), and per quiet day waiting for a
person's approval (with the link to decide).

Channels, each optional and each a notifier: e-mail (``LIFTOFF_ALERT_EMAIL_TO``, the SMTP
provider's ``SmtpNotifier`` on the ``smtp_default`` connection) and a webhook that takes
Slack-style JSON ``{"text": ...}`` (``LIFTOFF_ALERT_WEBHOOK_URL`` or the connection
``alert_webhook``; ``liftoff.notifiers.webhook``). With none configured
an alert is a log line, not an error; a channel that fails is logged and the others still
get the message. The message names the DAG, the day, the task, the error's first line, the
log's URL and the runbook section to read; no secret goes into it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
from airflow.sdk import BaseNotifier

from liftoff.config import first_line, get_settings
from liftoff.notifiers.webhook import WebhookNotifier, WebhookRefused

log = logging.getLogger(__name__)

WEBHOOK_CONN_ID = "alert_webhook"
CHANNEL_WORDS = {"email": "e-mail", "webhook": "webhook"}
SMTP_CONN_ID = "smtp_default"

# The runbook section for a failed task, by the last part of its id.
RUNBOOK_SECTIONS = {
    "ingest": "the-sync-failed",
    "validate": "a-batch-was-rejected",
    "archive": "the-warehouse-an-api-or-the-archive-was-down",
    "approve_low_volume": "a-day-is-far-quieter-than-usual",
    "freshness": "a-source-is-stale",
    "build": "a-dbt-model-or-test-failed",
    "previous_day_transformed": "a-day-failed-and-the-days-after-it",
}
LATE_SECTION = "a-day-failed-and-the-days-after-it"
SCHEMA_SECTION = "a-source-changed-its-schema"


_URL = re.compile(r"\b[a-zA-Z][\w+.-]*://[^\s'\"<>]+")


def url_location(url: str) -> str:
    """Where ``url`` points, and nothing else: ``scheme://host:port`` (a webhook's secret
    may be its userinfo, its path or its query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


def redact_url(url: str) -> str:
    """``url`` with its userinfo and every query value shown as ``***`` (the path stays)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        query = "&".join(f"{key}=***" for key, _ in parse_qsl(parts.query, keep_blank_values=True))
        if "@" in parts.netloc:
            netloc = "***@" + netloc
        return urlunsplit(parts._replace(netloc=netloc, query=query if parts.query else ""))
    except ValueError:
        return url_location(url) if "://" in url else "***"


def redact_urls(text: str) -> str:
    """Every URL in ``text`` redacted (``redact_url``)."""
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


@dataclass(frozen=True)
class Alert:
    title: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join([self.title, *self.lines])


def runbook_link(section: str) -> str:
    return f"{get_settings().runbook_url}#{section}"


def task_failed_alert(context) -> Alert:
    """The alert of a task that failed after its retries, from its Airflow context."""
    ti = context["ti"]
    day = context["dag_run"].data_interval_start
    day_text = day.date().isoformat() if day else "(no day: triggered without a logical date)"
    section = RUNBOOK_SECTIONS.get(ti.task_id.rsplit(".", 1)[-1], "rerun-one-day")
    return Alert(
        f"[liftoff] {ti.dag_id} {day_text}: {ti.task_id} failed",
        [
            f"DAG: {ti.dag_id}  day: {day_text}  run: {ti.run_id}  attempt: {ti.try_number}",
            f"task: {ti.task_id}",
            f"error: {redact_urls(first_line(context.get('exception') or 'no error recorded'))}",
            f"log: {ti.log_url}",
            f"runbook: {runbook_link(section)}",
        ],
    )


def run_late_alert(dag_run: dict, deadline_time: object) -> Alert:
    """The alert of a run unfinished at its deadline, from the deadline's context."""
    start = dag_run.get("data_interval_start")
    day = datetime.fromisoformat(start).astimezone(UTC).date().isoformat() if start else "(no day)"
    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="http://localhost:8080").rstrip("/")
    return Alert(
        f"[liftoff] {dag_run['dag_id']} {day}: still running at its deadline",
        [
            f"DAG: {dag_run['dag_id']}  day: {day}  run: {dag_run['dag_run_id']}  state: {dag_run['state']}",
            f"queued at {dag_run.get('queued_at')}, deadline {deadline_time}",
            f"run: {base}/dags/{dag_run['dag_id']}/runs/{dag_run['dag_run_id']}",
            f"runbook: {runbook_link(LATE_SECTION)}",
        ],
    )


def approval_alert(context, source: str, day: str, drops: list[str], link: str, hours: int) -> Alert:
    """The alert of a quiet day waiting for a person's decision: what dropped, where to decide."""
    ti = context["ti"]
    return Alert(
        f"[liftoff] {ti.dag_id} {day}: {source} is far quieter than usual: approve or reject it",
        [
            *drops,
            f"decide: {link}",
            f"the day waits there, before silver; with no decision in {hours} hours it fails",
            f"runbook: {runbook_link(RUNBOOK_SECTIONS['approve_low_volume'])}",
        ],
    )


def schema_changed_alert(source: str, day: str, changes: list[str]) -> Alert:
    """The alert of a sync that found its source's schema changed (each change once)."""
    return Alert(
        f"[liftoff] source {source} changed its schema (found syncing {day})",
        [
            *changes,
            f"all changes: liftoff sources changes {source}",
            f"runbook: {runbook_link(SCHEMA_SECTION)}",
        ],
    )


def _webhook_url() -> str | None:
    settings = get_settings()
    if settings.alert_webhook_url is not None:
        return settings.alert_webhook_url.get_secret_value()
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(WEBHOOK_CONN_ID).get_uri()
    except Exception:  # no such connection (or no Airflow here): the channel is off
        return None


def channels(alert: Alert) -> dict[str, BaseNotifier]:
    """The configured channels' notifiers for ``alert``: the SMTP provider's for e-mail, ours
    for the webhook. Given the finished text, they render nothing (an error's text is not a
    template)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    settings = get_settings()
    found: dict[str, BaseNotifier] = {}
    if settings.alert_email_to:
        found["email"] = SmtpNotifier(
            to=[address.strip() for address in settings.alert_email_to.split(",")],
            from_email=settings.alert_email_from,
            subject=alert.title,
            html_content="<pre>" + escape(alert.text) + "</pre>",
            smtp_conn_id=SMTP_CONN_ID,
        )
    url = _webhook_url()
    if url:
        found["webhook"] = WebhookNotifier(url=url, text=alert.text)
    return found


def deliver(alert: Alert) -> list[str]:
    """Send ``alert`` to every configured channel; the channels that took it. A channel that
    fails is logged (a hook's secret is in its userinfo, path or query: only where it is and
    the error's kind are), and the others still get it."""
    sent: list[str] = []
    log.warning("alert: %s", alert.text)
    for name, notifier in channels(alert).items():
        try:
            notifier.notify({})  # called, not rendered: see channels()
            sent.append(name)
        except WebhookRefused as exc:
            log.error("alert webhook at %s answered %s", url_location(notifier.url), exc)
        except httpx.HTTPError as exc:  # its text names the whole URL: only its kind is logged
            log.error("alert webhook at %s not reached: %s", url_location(notifier.url), type(exc).__name__)
        except Exception as exc:  # one channel down must not silence the others
            log.error("alert %s not sent: %s", CHANNEL_WORDS[name], redact_urls(first_line(exc)))
    if not sent:
        log.warning("no alert channel took it (LIFTOFF_ALERT_EMAIL_TO, _WEBHOOK_URL: docs/runbook.md#alerts)")
    return sent


class TaskFailedNotifier(BaseNotifier):
    """``on_failure_callback`` of every LiftOff task: called once its retries are spent, it
    sends one alert to every channel."""

    def notify(self, context) -> None:
        deliver(task_failed_alert(context))


async def on_run_late(context: dict, **_: object) -> None:
    """The deadline alert's callback (run by the triggerer)."""
    alert = run_late_alert(context["dag_run"], context.get("deadline", {}).get("deadline_time"))
    await asyncio.to_thread(deliver, alert)


def run_deadline():
    """The DAG's deadline: a run still unfinished ``LIFTOFF_ALERT_LATE_AFTER_MINUTES`` after it
    was queued (a scheduled run is queued when its day ends) sends one alert. None (no
    deadline) when ``LIFTOFF_ALERT_DEADLINES`` is off, as ``liftoff run`` sets it for `airflow dags test`."""
    if not get_settings().alert_deadlines:
        return None
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=get_settings().alert_late_after_minutes),
        callback=AsyncCallback(on_run_late),
        name="run late",
    )
