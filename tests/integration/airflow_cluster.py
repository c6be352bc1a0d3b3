"""A real Airflow 3 deployment in miniature, for tests: PostgreSQL metadata, LocalExecutor,
and the scheduler, DAG processor, triggerer and API server (tasks report through its execution API)
as separate processes, the way a team runs them. Backfills go through `airflow backfill
create`, exactly as an on-call engineer types it.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from datetime import UTC, date
from pathlib import Path

import httpx

from liftoff.airflow_runner import airflow_env
from liftoff.config import Settings
from liftoff.warehouse.bootstrap import bootstrap_for_pipeline
from liftoff.warehouse.location import Warehouse
from sales_api.server import free_port

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


class AirflowCluster:
    """``with AirflowCluster(...) as cluster:`` starts the components; leaving stops them."""

    def __init__(self, home: Path, metadata: Warehouse, warehouse: Warehouse, api_url: str):
        self.home = home
        self.metadata = metadata
        self.port = free_port()
        # What a deployment's init does once: `liftoff bootstrap` as the owner; the tasks then
        # log in as the pipeline role.
        pipeline = bootstrap_for_pipeline(warehouse, Settings(home=home))
        self.env = {
            **airflow_env(Settings(home=home), pipeline, api_url),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.url.replace(
                "postgresql://", "postgresql+psycopg2://"
            ),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            # Only the runs a test asks for (backfills): no run for the latest interval on unpause.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "airflow" / "logs"),
        }
        self.processes: dict[str, subprocess.Popen] = {}

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run([AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            )
        return done

    def __enter__(self) -> AirflowCluster:
        (self.home / "airflow").mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate", timeout=600)
        for component in COMPONENTS:
            log = (self.home / f"{component}.log").open("wb")
            self.processes[component] = subprocess.Popen(
                [AIRFLOW, component], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait(self._api_up, 120, "the API server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()

    def _api_up(self) -> bool:
        try:
            return (
                httpx.get(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=2).status_code == 200
            )
        except httpx.HTTPError:
            return False

    def _wait(self, ready, timeout: float, message: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"airflow {name} exited; see {self.home / (name + '.log')}")
            if time.monotonic() > deadline:
                raise TimeoutError(message)
            time.sleep(2)

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> None:
        """Until the DAG processor has parsed and stored ``dag_id``."""

        def parsed() -> bool:
            with self.metadata.connect() as conn:
                found = conn.execute("select 1 from dag where dag_id = %s", (dag_id,)).fetchone()
            return found is not None

        self._wait(parsed, timeout, f"{dag_id} was not parsed; see {self.home / 'dag-processor.log'}")

    def runs(self, dag_id: str) -> list[dict]:
        """The DAG's runs from the metadata database, oldest data interval first."""
        with self.metadata.connect() as conn:
            rows = conn.execute(
                "select run_id, run_type, state, data_interval_start, data_interval_end, start_date, end_date"
                " from dag_run where dag_id = %s order by data_interval_start",
                (dag_id,),
            ).fetchall()
        keys = (
            "run_id",
            "run_type",
            "state",
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
                "select run_id, task_id, state, start_date, end_date from task_instance where dag_id = %s",
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

    def wait_for_runs(self, dag_id: str, count: int, timeout: float) -> list[dict]:
        """Until ``count`` runs of ``dag_id`` have finished; return them (oldest first)."""
        finished: list[dict] = []

        def done() -> bool:
            nonlocal finished
            finished = [r for r in self.runs(dag_id) if r["state"] in {"success", "failed"}]
            return len(finished) >= count

        self._wait(done, timeout, f"fewer than {count} runs of {dag_id} finished")
        return finished


def day_of(run: dict) -> date:
    return run["data_interval_start"].astimezone(UTC).date()
