"""A real Airflow 3 deployment in miniature, for tests: PostgreSQL metadata, LocalExecutor or
CeleryExecutor on a real Redis with Celery workers, and the scheduler, DAG processor,
triggerer and API server (tasks report through its execution API) as separate processes,
the way a team runs them. Backfills go through `airflow backfill
create`, exactly as an on-call engineer types it.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date
from pathlib import Path

from liftoff.config import Settings
from liftoff.local.airflow_deployment import AirflowProcesses, deployment_env
from liftoff.local.airflow_runner import airflow_env
from liftoff.local.files import write_private
from liftoff.warehouse.bootstrap import bootstrap_for_pipeline
from liftoff.warehouse.location import Warehouse
from sales_api.server import free_port


class AirflowCluster(AirflowProcesses):
    """``with AirflowCluster(...) as cluster:`` starts the components; leaving stops them.

    The same components and settings as ``liftoff airflow`` (``liftoff.local.airflow_deployment``),
    on a given metadata database, with DAGs paused at creation and no scheduled runs: only
    the runs a test asks for.
    """

    def __init__(
        self,
        home: Path,
        metadata: Warehouse,
        warehouse: Warehouse,
        api_url: str,
        extra_env: dict | None = None,
        *,
        celery_broker: str | None = None,
        workers: tuple[str, ...] = (),
    ):
        self.home = home
        self.metadata = metadata
        # What a deployment's init does once: `liftoff bootstrap` as the owner; the tasks then
        # log in as the pipeline role.
        pipeline = bootstrap_for_pipeline(warehouse, Settings(home=home))
        passwords = home / "airflow" / "admin-password.json"
        write_private(passwords, json.dumps({"admin": secrets.token_urlsafe(12)}))
        port = free_port()
        base = {**airflow_env(Settings(home=home), pipeline, api_url), **(extra_env or {})}
        env = deployment_env(
            base,
            metadata,
            home / "airflow",
            port,
            passwords=passwords,
            paused_at_creation=True,
            celery_broker=celery_broker,
        )
        # Only the runs a test asks for (backfills): no run for the latest interval on unpause.
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
        env["AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL"] = "10"
        super().__init__(env, home, port, workers)

    def __enter__(self) -> AirflowCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> None:
        """Until the DAG processor has parsed and stored ``dag_id``."""

        def parsed() -> bool:
            with self.metadata.connect() as conn:
                found = conn.execute("select 1 from public.dag where dag_id = %s", (dag_id,)).fetchone()
            return found is not None

        self.wait(parsed, timeout, f"{dag_id} was not parsed; see {self.home / 'dag-processor.log'}")

    def runs(self, dag_id: str) -> list[dict]:
        """The DAG's runs from the metadata database, oldest data interval first."""
        with self.metadata.connect() as conn:
            rows = conn.execute(
                "select run_id, run_type, state, logical_date, data_interval_start, data_interval_end,"
                " start_date, end_date"
                " from public.dag_run where dag_id = %s order by data_interval_start",
                (dag_id,),
            ).fetchall()
        keys = (
            "run_id",
            "run_type",
            "state",
            "logical_date",
            "data_interval_start",
            "data_interval_end",
            "start_date",
            "end_date",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def task_instances(self, dag_id: str) -> list[dict]:
        """Every task instance of the DAG: run, task, state, start and end."""
        with self.metadata.connect() as conn:
            rows = conn.execute(
                "select run_id, task_id, state, start_date, end_date from public.task_instance"
                " where dag_id = %s",
                (dag_id,),
            ).fetchall()
        keys = ("run_id", "task_id", "state", "start_date", "end_date")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def failure_report(self, dag_id: str, tasks: list[dict], lines: int = 15) -> str:
        """The failed tasks with the last error lines of their logs (for an assertion message)."""
        report = []
        for task in tasks:
            if task["state"] != "failed":
                continue
            folder = self.home / "airflow" / "logs" / f"dag_id={dag_id}" / f"run_id={task['run_id']}"
            events = []
            for log in sorted((folder / f"task_id={task['task_id']}").glob("attempt=*.log")):
                for line in log.read_text(errors="replace").splitlines():
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        events.append(line)
                        continue
                    event = str(entry.get("event"))
                    if entry.get("level") in {"error", "critical", "warning"} or "ERROR" in event:
                        events.append(f"{entry.get('level')}: {event[:500]}")
            report.append(f"== {task['run_id']} {task['task_id']}\n" + "\n".join(events[-lines:]))
        return "\n".join(report)

    def run_of_day(self, dag_id: str, day: date) -> dict | None:
        """The run whose logical date is ``day`` (the run of that day), if there is one."""
        return next((run for run in self.runs(dag_id) if run["logical_date"] and day_of(run) == day), None)

    def task_state(self, run_id: str, task_id: str) -> str | None:
        with self.metadata.connect() as conn:
            row = conn.execute(
                "select state from public.task_instance where run_id = %s and task_id = %s", (run_id, task_id)
            ).fetchone()
        return row[0] if row else None

    def wait_for_runs(
        self, dag_id: str, count: int, timeout: float, states: set[str] = frozenset({"success", "failed"})
    ) -> list[dict]:
        """Until ``count`` runs of ``dag_id`` are in ``states`` (finished); return them (oldest first)."""
        finished: list[dict] = []

        def done() -> bool:
            nonlocal finished
            finished = [r for r in self.runs(dag_id) if r["state"] in states]
            return len(finished) >= count

        self.wait(done, timeout, f"fewer than {count} runs of {dag_id} finished")
        return finished


def day_of(run: dict) -> date:
    return run["data_interval_start"].astimezone(UTC).date()


def tasks_run_by(log: Path) -> set[str]:
    """The task ids a Celery worker ran, read from its log."""
    return set(re.findall(r"task_id='([^']+)'", log.read_text(errors="replace")))
