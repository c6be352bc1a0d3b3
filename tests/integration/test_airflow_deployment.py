"""`liftoff airflow` as a data engineer uses it: the scheduler's own runs, `liftoff run` and
`liftoff backfill` through it, the REST API with the printed login, runs refused in one line;
as an analyst sees it: a sale at a shop's terminal in gold_sales_today within a minute.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from liftoff.local.airflow_api import AirflowApi
from liftoff.local.postgres import DATABASE as EMBEDDED_DATABASE
from liftoff.warehouse.location import Warehouse
from sales_api.pos import Message, publish

DAG = "sales_elt"


@pytest.fixture(scope="module")
def yesterday(airflow_deployment) -> date:
    return scheduled_day(airflow_deployment.api())


def scheduled_day(api: AirflowApi) -> date:
    """The day the scheduler runs by itself once the deployment is up: the last ended day.

    Read from the scheduler's own run, not from the clock when this module was imported: a
    test session may cross midnight (UTC) between the two."""
    deadline = datetime.now(UTC) + timedelta(minutes=5)
    while not (scheduled := [r for r in api.client.get(f"/dags/{DAG}/dagRuns").json()["dag_runs"]
                             if r["run_type"] == "scheduled"]):  # fmt: skip
        assert datetime.now(UTC) < deadline, "the scheduler did not start yesterday's run"
        time.sleep(3)
    day = min(date.fromisoformat(run["logical_date"][:10]) for run in scheduled)
    today = datetime.now(UTC).date()
    assert day in {today - timedelta(days=1), today - timedelta(days=2)}, f"the scheduler ran {day}"
    return day


def not_ended() -> date:
    """Today (UTC), a day that has not ended."""
    return datetime.now(UTC).date()


def runs_of(api: AirflowApi, day: date) -> list[dict]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC).isoformat()
    params = {"logical_date_gte": start, "logical_date_lte": start}
    return api.client.get(f"/dags/{DAG}/dagRuns", params=params).json()["dag_runs"]


def task_log(api: AirflowApi, run_id: str, task_id: str, try_number: int = 1) -> str:
    answer = api.client.get(
        f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
        params={"full_content": True},
    )
    answer.raise_for_status()
    content = answer.json()["content"]
    return "\n".join(
        str(entry.get("event", entry)) if isinstance(entry, dict) else str(entry) for entry in content
    )


def test_the_scheduler_runs_yesterday_by_itself_and_liftoff_run_reruns_that_run(
    airflow_deployment, yesterday: date
) -> None:
    api = airflow_deployment.api()
    # the DAG is unpaused at the first start: yesterday's run comes by itself (the fixture)
    scheduled = runs_of(api, yesterday)[0]["dag_run_id"]
    assert api.wait(DAG, scheduled) == "success"
    (run,) = runs_of(api, yesterday)
    assert run["run_type"] == "scheduled"
    assert run["logical_date"] == run["data_interval_start"] == f"{yesterday}T00:00:00Z"

    done = airflow_deployment.liftoff("run", "--date", str(yesterday))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"cleared run {scheduled}" in done.stdout and "Airflow runs on this home" in done.stdout
    (again,) = runs_of(api, yesterday)  # one run of the day, not two
    assert again["dag_run_id"] == scheduled and again["state"] == "success"
    tries = api.client.get(f"/dags/{DAG}/dagRuns/{scheduled}/taskInstances/crm.ingest").json()["try_number"]
    assert tries == 2, "the scheduler's run was run again"
    # by then the workers' warm connector runner is up (the first sync may beat its start)
    assert "the connector runner ran warm" in task_log(api, scheduled, "crm.ingest", try_number=2)


def test_the_rest_api_triggers_a_day_with_the_printed_login(airflow_deployment, yesterday: date) -> None:
    printed = airflow_deployment.log.read_text()
    assert airflow_deployment.login.url in printed and "login: admin" in printed
    assert airflow_deployment.login.password not in printed, "the password is never printed"
    token = httpx.post(
        f"{airflow_deployment.login.url}/auth/token",
        json={"username": "admin", "password": airflow_deployment.login.password},
    ).json()["access_token"]
    rest = httpx.Client(
        base_url=f"{airflow_deployment.login.url}/api/v2", headers={"Authorization": f"Bearer {token}"}
    )
    day = yesterday - timedelta(days=2)
    created = rest.post(f"/dags/{DAG}/dagRuns", json={"logical_date": f"{day}T00:00:00Z"})
    assert created.status_code == 200, created.text
    run = created.json()
    assert (run["data_interval_start"], run["data_interval_end"]) == (
        f"{day}T00:00:00Z",
        f"{day + timedelta(days=1)}T00:00:00Z",
    )
    assert airflow_deployment.api().wait(DAG, run["dag_run_id"]) == "success"
    gate = task_log(airflow_deployment.api(), run["dag_run_id"], "crm.validate")
    assert "accepted=" in gate and "rejected=" in gate, gate[-2000:]


def test_a_run_without_a_day_fails_at_once_and_a_day_not_ended_is_refused(airflow_deployment) -> None:
    api = airflow_deployment.api()
    run = api.client.post(f"/dags/{DAG}/dagRuns", json={"logical_date": None}).json()
    started = datetime.now(UTC)
    assert api.wait(DAG, run["dag_run_id"], poll=2) == "failed"
    assert datetime.now(UTC) - started < timedelta(minutes=3), "failed at once, not after retries"
    tasks = api.client.get(f"/dags/{DAG}/dagRuns/{run['dag_run_id']}/taskInstances").json()["task_instances"]
    ingest = next(t for t in tasks if t["task_id"] == "crm.ingest")
    assert (ingest["state"], ingest["try_number"]) == ("failed", 1), "no retry of a run that cannot be"
    assert "this run has no data interval (it was triggered without a logical date)" in task_log(
        api, run["dag_run_id"], "crm.ingest"
    )

    today = not_ended()  # at 00:00 it would hold the scheduler's run of today
    refused = api.client.post(f"/dags/{DAG}/dagRuns", json={"logical_date": f"{today}T00:00:00Z"})
    assert refused.status_code == 400 and f"{today} has not ended yet (UTC)" in refused.text
    assert runs_of(api, today) == []


def test_liftoff_backfill_goes_through_the_scheduler(airflow_deployment, yesterday: date) -> None:
    first, last = yesterday - timedelta(days=5), yesterday - timedelta(days=4)
    done = airflow_deployment.liftoff("backfill", "--from", str(first), "--to", str(last))
    assert done.returncode == 0, done.stdout + done.stderr
    api = airflow_deployment.api()
    for day in (first, last):
        (run,) = runs_of(api, day)
        assert (run["run_type"], run["state"]) == ("backfill", "success")
        assert f"✓ sales_elt {day}" in done.stdout

    refused = airflow_deployment.liftoff("run", "--date", str(not_ended()))
    assert refused.returncode == 2 and "has not ended yet (UTC)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_gold_assets_schedule_the_export_of_each_refreshed_day(airflow_deployment, yesterday: date) -> None:
    api = airflow_deployment.api()
    assets = api.client.get("/assets", params={"limit": 100}).json()["assets"]
    gold = {a["name"]: a["uri"] for a in assets if a["name"].split(".")[1:2] == ["gold"]}
    port = airflow_deployment.env["LIFTOFF_EMBEDDED_PG_PORT"]
    assert (
        gold["liftoff.gold.gold_sales_daily"] == f"postgres://127.0.0.1:{port}/liftoff/gold/gold_sales_daily"
    )
    assert set(gold) >= {f"liftoff.gold.{t}" for t in ("gold_sales_by_product_7d", "gold_sales_by_seller_7d")}

    day = yesterday  # the scheduler's own run of it refreshes gold, which schedules the export
    deadline = time.monotonic() + 600
    while not runs_of(api, day) or runs_of(api, day)[0]["state"] != "success":
        assert time.monotonic() < deadline, f"no successful run of {day}"
        time.sleep(3)
    exports = airflow_deployment.home / "archive" / "exports"
    daily = exports / "gold_sales_daily" / f"dt={day}" / "gold_sales_daily.csv"
    while not daily.exists():
        assert time.monotonic() < deadline, f"gold_export wrote nothing for {day}: {list(exports.rglob('*'))}"
        time.sleep(3)
    lines = daily.read_text().splitlines()
    assert lines[0].startswith("sale_date,") and len(lines) == 2 and lines[1].startswith(str(day))
    counted = airflow_deployment.liftoff(
        "sql", f"select count(*) as n from gold.gold_sales_by_product_7d where as_of_date = '{day}'"
    )
    rows = int(re.search(r"│\s*(\d+)\s*│", counted.stdout).group(1))
    products = exports / "gold_sales_by_product_7d" / f"dt={day}" / "gold_sales_by_product_7d.csv"
    assert rows > 0 and len(products.read_text().splitlines()) - 1 == rows, counted.stdout


def wait_for_yesterday(api: AirflowApi, yesterday: date, timeout: float = 600) -> None:
    """The scheduler's run of yesterday has built gold (and with it the view of today)."""
    deadline = time.monotonic() + timeout
    while not runs_of(api, yesterday) or runs_of(api, yesterday)[0]["state"] != "success":
        assert time.monotonic() < deadline, f"no successful run of {yesterday}"
        time.sleep(3)


def today_of(deployment, seller: str) -> list[tuple[int, int, str]]:
    """gold_sales_today's (sales, units, revenue) of ``seller``, read as the analyst role."""
    env = deployment.env
    analyst = Warehouse(
        "127.0.0.1",
        int(env["LIFTOFF_EMBEDDED_PG_PORT"]),
        EMBEDDED_DATABASE,
        "analyst",
        env["LIFTOFF_ANALYST_PASSWORD"],
    )
    with analyst.connect() as conn:
        rows = conn.execute(
            "select sales, units, revenue::text from gold.gold_sales_today where seller_email = %s", (seller,)
        ).fetchall()
    return [tuple(row) for row in rows]


def sale_event(seller: str, quantity: int) -> Message:
    now = datetime.now(UTC)
    event = {
        "sale_id": f"pos-live-{uuid.uuid4().hex[:12]}",
        "seller_email": seller,
        "sold_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "amount": f"{27 * quantity}.00",
        "quantity": quantity,
        "product": "Extra Seat",
        "event_id": str(uuid.uuid4()),
        "event_time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Message(event["sale_id"].encode(), json.dumps(event).encode(), now, event)


def test_a_sale_at_a_terminal_shows_in_gold_sales_today_within_a_minute(
    airflow_deployment, yesterday: date
) -> None:
    """Event-driven: the topic's message starts pos_today (its asset watcher); a retried event
    counts once."""
    wait_for_yesterday(airflow_deployment.api(), yesterday)
    servers = f"127.0.0.1:{airflow_deployment.env['LIFTOFF_KAFKA_PORT']}"
    seller = f"live-{uuid.uuid4().hex[:8]}@liftoff.example"
    first = sale_event(seller, 2)
    publish(servers, [first], stamp=False)  # the broker's clock: a sale happening now
    published = time.monotonic()
    while not (found := today_of(airflow_deployment, seller)):
        assert time.monotonic() - published < 120, "the sale did not show in gold_sales_today"
        time.sleep(2)
    seconds = time.monotonic() - published
    assert found == [(1, 2, "54.00")], found
    assert seconds < 60, f"visible after {seconds:.0f} s"

    publish(servers, [first, sale_event(seller, 1)], stamp=False)  # a retried event and a new sale
    deadline = time.monotonic() + 120
    while (found := today_of(airflow_deployment, seller)) != [(2, 3, "81.00")]:
        assert time.monotonic() < deadline, f"gold_sales_today shows {found}"
        time.sleep(2)
