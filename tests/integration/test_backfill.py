"""A backfill through a real Airflow scheduler, scaled out on Celery, as on-call runs it, that heals.

PostgreSQL metadata, CeleryExecutor on a real Redis with two `airflow celery worker`
processes of different hostnames (as a team's compose scales out), the four components as
separate processes, and `airflow backfill create` with several runs at once: both workers
run tasks. One day's API is down: its ingest
fails after its retries and alerts (a real SMTP server and a webhook take the message),
the days after it wait (their sensor defers, they miss their deadline and alert as
late); once the API is back, on-call clears the failed day and those after it, as the
runbook says, and every day ends green. Then every gold table must equal the independent
computation from the demo APIs' rows, the days must have synced in parallel, their silver
and gold must have gone in date order, and one day's bronze at a time.
"""

from __future__ import annotations

import socket
import subprocess
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from urllib.parse import quote

from liftoff.local.airflow_deployment import write_state
from sales_api.server import free_port
from tests.airflow_deployment import LIFTOFF
from tests.alert_sinks import SmtpSink, WebhookSink
from tests.compose_cli import run_healthcheck, team_services
from tests.integration.airflow_cluster import AirflowCluster, day_of, tasks_run_by
from tests.integration.expected import assert_gold_matches, expected_after

DAYS = [date(2026, 11, 10) + timedelta(days=offset) for offset in range(7)]
DOWN = DAYS[2]  # the day whose API refuses every request until it recovers
# the first as the compose file's worker is named (`celery@` its host), for its healthcheck
WORKERS = ("celery", "worker-b")


COMPONENTS = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)


def component_healthchecks(
    services: dict[str, dict], cluster: AirflowCluster, scheduler_health: int
) -> dict[str, subprocess.CompletedProcess]:
    """The compose file's healthcheck of each Airflow component, run against the cluster's: the
    container's ports moved to the cluster's, ``HOSTNAME`` the host name the components record
    (Airflow's ``get_hostname``, Celery's ``%h``: in a container, its name, as ``HOSTNAME``
    is); and the triggerer's check for another host, which must fail."""
    from airflow.utils.net import get_hostname

    api = {"localhost:8080": f"localhost:{cluster.port}"}
    here = {**cluster.env, "HOSTNAME": get_hostname()}
    return {
        "airflow-apiserver": run_healthcheck(services, "airflow-apiserver", cluster.env, api),
        "airflow-scheduler": run_healthcheck(
            services, "airflow-scheduler", cluster.env, {"localhost:8974": f"localhost:{scheduler_health}"}
        ),
        "airflow-dag-processor": run_healthcheck(services, "airflow-dag-processor", here),
        "airflow-triggerer": run_healthcheck(services, "airflow-triggerer", here),
        "airflow-worker": run_healthcheck(
            services, "airflow-worker", {**here, "HOSTNAME": socket.gethostname()}
        ),
        "elsewhere": run_healthcheck(
            services, "airflow-triggerer", {**here, "HOSTNAME": "another-host"}, attempts=1
        ),
    }


def test_a_backfill_whose_middle_day_fails_heals_once_cleared(
    database_factory, api_server_factory, redis_server: str, tmp_path: Path
) -> None:
    services = team_services(tmp_path / "compose")  # the healthchecks the components must pass
    scheduler_health = free_port()
    api = api_server_factory(dirty_fraction=0.04)  # some rejects, duplicates and outliers every day
    api.refuse_days([DOWN])
    warehouse, metadata = database_factory("liftoff_backfill"), database_factory("airflow_metadata")
    with SmtpSink() as smtp, WebhookSink() as webhook:
        alerting = {
            "LIFTOFF_RETRY_DELAY_SECONDS": "1",
            "LIFTOFF_ALERT_EMAIL_TO": "oncall@example.com",
            "AIRFLOW_CONN_SMTP_DEFAULT": smtp.conn_uri,
            "LIFTOFF_ALERT_WEBHOOK_URL": webhook.url,
            "LIFTOFF_ALERT_LATE_AFTER_MINUTES": "1",
            # the scheduler's health server, as the compose file enables it (on a free port)
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": services["airflow-scheduler"]["environment"][
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"
            ],
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(scheduler_health),
        }
        with AirflowCluster(
            tmp_path / "home",
            metadata,
            warehouse,
            api.url,
            alerting,
            celery_broker=redis_server,
            workers=WORKERS,
        ) as cluster:
            cluster.wait_for_dag("sales_elt")
            cluster.airflow("dags", "unpause", "sales_elt")
            cluster.airflow(
                "backfill", "create", "--dag-id", "sales_elt",
                "--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat(),
                "--max-active-runs", "3", "--reprocess-behavior", "failed",
            )  # fmt: skip
            state = lambda day: (cluster.run_of_day("sales_elt", day) or {}).get("state")  # noqa: E731
            cluster.wait(lambda: state(DOWN) == "failed", 900, f"{DOWN} did not fail")
            down_run = cluster.run_of_day("sales_elt", DOWN)["run_id"]
            after = (cluster.run_of_day("sales_elt", DOWN + timedelta(days=1)) or {}).get("run_id")
            cluster.wait(
                lambda: cluster.task_state(after, "previous_day_transformed") == "deferred",
                600,
                f"{DOWN + timedelta(days=1)} did not wait for {DOWN}",
            )
            cluster.wait(lambda: any("deadline" in p["text"] for p in webhook.posts), 300, "no late alert")
            failed_alerts = [p["text"] for p in webhook.posts if "failed" in p["text"].splitlines()[0]]

            # the runbook: fix the cause, then rerun the failed day; the days after it go on
            api.refuse_days([])
            write_state(
                cluster.home / "airflow", cluster.url, "up"
            )  # as `liftoff airflow` says where it runs
            rerun = subprocess.run(
                [LIFTOFF, "run", "--date", DOWN.isoformat()],
                env={**cluster.env, "LIFTOFF_HOME": str(cluster.home)},
                capture_output=True,
                text=True,
                timeout=1800,
            )
            assert rerun.returncode == 0, rerun.stdout + rerun.stderr
            assert f"sales_elt {DOWN}: replaced {down_run} by run manual__" in rerun.stdout
            runs = cluster.wait_for_runs("sales_elt", len(DAYS), timeout=3600, states={"success"})
            healed = cluster.run_of_day("sales_elt", DOWN)
            tasks = cluster.task_instances("sales_elt")
            report = cluster.failure_report("sales_elt", tasks)
            ran = {worker: tasks_run_by(cluster.home / f"{worker}.log") for worker in WORKERS}
            health = component_healthchecks(services, cluster, scheduler_health)

    failing = {name: done.stdout + done.stderr for name, done in health.items() if done.returncode != 0}
    assert set(health) == set(COMPONENTS) | {"elsewhere"}
    assert list(failing) == ["elsewhere"], failing  # the jobs check can fail: another host's
    assert all(ran.values()), f"each Celery worker ran tasks: {ran}"
    assert set().union(*ran.values()) >= {"crm.ingest", "transformed"}
    failed = [(t["run_id"], t["task_id"], t["state"]) for t in tasks if t["state"] != "success"]
    assert not failed, f"tasks that did not succeed: {failed[:10]}\n{report}"
    assert [day_of(run) for run in runs] == DAYS
    assert {run["state"] for run in runs} == {"success"}
    assert [run["run_type"] for run in runs] == ["manual" if day == DOWN else "backfill" for day in DAYS]
    assert healed["run_type"] == "manual" and healed["state"] == "success"

    # one alert per task that failed for good: the down day's ingest tasks, nothing else
    assert failed_alerts and all(str(DOWN) in text for text in failed_alerts), failed_alerts
    assert {text.splitlines()[0].split(": ")[1] for text in failed_alerts} <= {
        "crm.ingest failed",
        "shop.ingest failed",
    }
    crm = next(text for text in failed_alerts if "crm.ingest" in text.splitlines()[0])
    assert "injected outage" in crm or "503" in crm, crm  # the error's first line
    assert f"/dags/sales_elt/runs/{quote(down_run)}/tasks/crm.ingest" in crm  # the log's URL
    assert "runbook.md#the-sync-failed" in crm
    mails = [m for m in smtp.messages if str(DOWN) in m["Subject"]]
    assert (
        mails
        and mails[0]["To"] == "oncall@example.com"
        and "crm.ingest" in "".join(m["Subject"] for m in mails)
    )
    late = [p["text"] for p in webhook.posts if "deadline" in p["text"]]
    assert any(str(DOWN + timedelta(days=1)) in text for text in late), late
    assert all("runbook.md#a-day-failed-and-the-days-after-it" in text for text in late)

    by_run = {run["run_id"]: day_of(run) for run in runs}
    # a day's sync: its sources' ingest, validate and archive tasks, first start to last end
    syncs: dict[date, list] = {}
    for t in tasks:
        if t["task_id"].rpartition(".")[2] in ("ingest", "validate", "archive"):
            window = syncs.setdefault(by_run[t["run_id"]], [t["start_date"], t["end_date"]])
            window[:] = [min(window[0], t["start_date"]), max(window[1], t["end_date"])]
    windows = sorted(syncs.values())
    assert any(b[0] < a[1] for a, b in pairwise(windows)), f"days of a backfill sync in parallel: {windows}"
    done = {by_run[t["run_id"]]: t["end_date"] for t in tasks if t["task_id"] == "transformed"}
    for t in tasks:
        day = by_run[t["run_id"]]
        if t["task_id"].startswith(("silver.", "gold.")) and day != DAYS[0]:
            assert t["start_date"] >= done[day - timedelta(days=1)], (
                f"{day}'s {t['task_id']} began before {day}'s eve was transformed"
            )
    bronze = sorted((t["start_date"], t["end_date"]) for t in tasks if t["task_id"] == "bronze.build")
    assert len(bronze) >= len(DAYS) and all(a[1] <= b[0] for a, b in pairwise(bronze)), (
        f"one day's bronze at a time (it rebuilds the layer's views): {bronze}"
    )

    with warehouse.connect() as conn:
        assert_gold_matches(conn, expected_after(api.url, DAYS), DAYS)
        outliers = conn.execute("select count(*) from silver.silver_sales where is_outlier").fetchone()[0]
        assert outliers > 0, "the dirty API's outliers were flagged and left out of gold"
