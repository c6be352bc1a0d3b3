"""Airflow's REST API (``/api/v2``), as ``liftoff run`` and ``liftoff backfill`` use it.

A token from ``POST /auth/token`` with the deployment's login, then plain JSON calls. The
run of day D is the DAG run whose logical date is D (``liftoff.timetable``): triggering a
day that already has a run reruns that run (cleared), it never makes a second one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx

from liftoff.batch import Interval
from liftoff.config import ConfigError, Unavailable
from liftoff.local.airflow_deployment import Login
from liftoff.local.airflow_runner import day_logical_date

FINISHED = {"success", "failed"}


@dataclass(frozen=True)
class DayRun:
    """One DAG run of one day, as the API tells it."""

    day: date
    run_id: str
    state: str
    url: str


def midnight(day: date) -> str:
    """Day ``day`` at 00:00 UTC: the logical date of its run."""
    return Interval.for_day(day).start.isoformat()


class AirflowApi:
    def __init__(self, login: Login, timeout: float = 30) -> None:
        self.login = login
        try:
            answer = httpx.post(
                f"{login.url}/auth/token",
                json={"username": login.user, "password": login.password},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"Airflow at {login.url} does not answer: {exc}") from exc
        if answer.status_code in {401, 403}:
            raise ConfigError(f"Airflow at {login.url} refused the login of {login.user}")
        if answer.status_code != 200 and answer.status_code != 201:
            raise Unavailable(f"Airflow at {login.url} did not give a token: HTTP {answer.status_code}")
        self.client = httpx.Client(
            base_url=f"{login.url}/api/v2",
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            timeout=timeout,
        )

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            answer = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"Airflow at {self.login.url} does not answer: {exc}") from exc
        if answer.status_code >= 400 and answer.status_code != 409:
            detail = answer.json().get("detail") if "json" in answer.headers.get("content-type", "") else ""
            raise ConfigError(f"Airflow refused {method} {path}: {answer.status_code} {detail}")
        return answer

    def run_url(self, dag_id: str, run_id: str) -> str:
        return f"{self.login.url}/dags/{dag_id}/runs/{run_id}"

    def _day_run(self, dag_id: str, run: dict) -> DayRun:
        day = datetime.fromisoformat(run["logical_date"]).astimezone(UTC).date()
        return DayRun(day, run["dag_run_id"], run["state"], self.run_url(dag_id, run["dag_run_id"]))

    def run_of_day(self, dag_id: str, day: date) -> DayRun | None:
        start = midnight(day)
        runs = self._call(
            "GET", f"/dags/{dag_id}/dagRuns", params={"logical_date_gte": start, "logical_date_lte": start}
        ).json()["dag_runs"]
        return self._day_run(dag_id, runs[0]) if runs else None

    def is_paused(self, dag_id: str) -> bool:
        return bool(self._call("GET", f"/dags/{dag_id}").json()["is_paused"])

    def run_day(self, dag_id: str, day: date, conf: dict | None = None) -> tuple[DayRun, str]:
        """Start the run of ``day``: a new one, or the existing one again. Returns it and what
        was done (``triggered``, ``cleared``, ``replaced <old run>``, ``running``).

        A finished run is cleared (rerun in place), except that it is replaced (deleted, then
        triggered anew) when its config differs (a run's config cannot change) or when it
        belongs to a backfill: cleared, it would queue behind that backfill's own runs, which
        may all be waiting for this very day. Today (a partial day) is always a run of its
        own, at this moment's logical date: it never holds the scheduler's run of the day.
        """
        existing = None if day >= datetime.now(UTC).date() else self.run_of_day(dag_id, day)
        if existing is not None and existing.state not in FINISHED:
            return existing, "running"  # the scheduler's own run of the day, say: one run
        how = "triggered"
        if existing is not None:
            old = self._call("GET", f"/dags/{dag_id}/dagRuns/{existing.run_id}").json()
            if (old.get("conf") or {}) == (conf or {}) and old.get("run_type") != "backfill":
                self._call("POST", f"/dags/{dag_id}/dagRuns/{existing.run_id}/clear", json={"dry_run": False})
                return DayRun(day, existing.run_id, "queued", existing.url), "cleared"
            self._call("DELETE", f"/dags/{dag_id}/dagRuns/{existing.run_id}")
            how = f"replaced {existing.run_id} by"
        answer = self._call(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            json={"logical_date": day_logical_date(day), "conf": conf or {}},
        )
        if answer.status_code == 409:  # the scheduler made the day's run a moment ago: that one
            existing = self.run_of_day(dag_id, day)
            if existing is None:
                raise ConfigError(f"Airflow refused a run of {day}: {answer.json().get('detail')}")
            return existing, "running"
        return self._day_run(dag_id, answer.json()), how

    def wait(self, dag_id: str, run_id: str, poll: float = 5) -> str:
        """Until the run has finished; its final state."""
        while True:
            state = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
            if state in FINISHED:
                return state
            time.sleep(poll)

    def failed_tasks(self, dag_id: str, run_id: str) -> list[tuple[str, str]]:
        """The run's failed tasks: id and the URL of its log in the UI."""
        tasks = self._call(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"state": "failed"}
        ).json()["task_instances"]
        return [(t["task_id"], f"{self.run_url(dag_id, run_id)}/tasks/{t['task_id']}") for t in tasks]

    def backfill(self, dag_id: str, first: date, last: date, *, max_active_runs: int, reprocess: str) -> int:
        """Create a backfill of ``first``..``last`` (inclusive); its id."""
        answer = self._call(
            "POST",
            "/backfills",
            json={
                "dag_id": dag_id,
                "from_date": midnight(first),
                "to_date": midnight(last),
                "max_active_runs": max_active_runs,
                "reprocess_behavior": reprocess,
                "run_backwards": False,
                "dag_run_conf": {},
            },
        )
        if answer.status_code == 409:
            raise ConfigError(f"a backfill of {dag_id} is running already: {answer.json().get('detail')}")
        return int(answer.json()["id"])

    def backfill_done(self, backfill_id: int) -> bool:
        return self._call("GET", f"/backfills/{backfill_id}").json().get("completed_at") is not None

    def runs_between(self, dag_id: str, first: date, last: date) -> list[DayRun]:
        """Every run whose logical date is in ``first``..``last`` (all pages)."""
        runs: list[DayRun] = []
        while True:
            params = {
                "logical_date_gte": midnight(first),
                "logical_date_lte": midnight(last),
                "order_by": "logical_date",
                "limit": 100,
                "offset": len(runs),
            }
            page = self._call("GET", f"/dags/{dag_id}/dagRuns", params=params).json()["dag_runs"]
            runs += [self._day_run(dag_id, run) for run in page]
            if len(page) < 100:
                return runs
