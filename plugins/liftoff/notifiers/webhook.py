"""A webhook notifier: the message as Slack-style JSON ``{"text": ...}`` (Slack's incoming
webhooks, Mattermost, Teams' workflows and most chat tools take it)."""

from __future__ import annotations

from typing import Any

import httpx
from airflow.sdk import BaseNotifier


class WebhookRefused(Exception):
    """The webhook answered, but not with success."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class WebhookNotifier(BaseNotifier):
    """Post ``text`` to ``url``. The URL is a secret (a token in its path or query): it is
    never part of what this raises; an unreachable hook raises httpx's error, whose text
    names the URL, so log only its kind."""

    template_fields = ("text",)

    def __init__(self, *, url: str, text: str, timeout: float = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.text = text
        self.timeout = timeout

    def notify(self, context: Any) -> None:
        answer = httpx.post(self.url, json={"text": self.text}, timeout=self.timeout)
        if answer.status_code >= 300:
            raise WebhookRefused(answer.status_code)
