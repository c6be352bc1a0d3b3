"""The Airflow UI of `liftoff airflow` in a real browser, as a new data engineer walks it.

Log in with the printed login, find `sales_elt` and read its documentation, pause and
unpause it, trigger a day from the Trigger dialog, watch every task succeed in the grid,
open the gate task's log and find its counts, and look at clearing a run and a backfill.
The screenshots are kept as test artefacts; with ``LIFTOFF_UPDATE_SCREENSHOTS=1`` they also
replace the ones docs/airflow-ui.md shows.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from liftoff.batch import Interval
from liftoff.config import PROJECT_ROOT, load_sources
from liftoff.local.airflow_api import AirflowApi
from liftoff.local.airflow_deployment import Login
from liftoff.local.postgres import EmbeddedPostgres
from liftoff.pipeline import validate
from sales_api.data import sales_for_day
from tests.browser import ARTEFACTS
from tests.integration.landing import land_sales
from tests.integration.test_airflow_deployment import task_log

DAG = "sales_elt"
DOCS_IMAGES = PROJECT_ROOT / "docs" / "img" / "airflow-ui"


class Walk:
    """One browser page on the deployment, taking named screenshots."""

    def __init__(self, page, login: Login, shots: Path) -> None:
        self.page, self.login, self.shots = page, login, shots
        shots.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def log_in(self) -> None:
        page = self.page
        page.goto(self.login.url)
        page.get_by_label("Username").fill(self.login.user)
        page.get_by_label("Password").fill(self.login.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{self.login.url}/")

    def open_dag(self) -> None:
        self.page.goto(f"{self.login.url}/dags/{DAG}")
        self.page.get_by_role("heading", name=DAG).first.wait_for()

    def trigger(self, day: date) -> None:
        """The Trigger dialog, single run, with the day as its logical date."""
        page = self.page
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_test_id("datetime-input").click()
        picker = page.locator("[data-part=content][data-state=open]").last
        picker.get_by_placeholder("YYYY/MM/DD").fill(day.strftime("%Y/%m/%d"))
        picker.get_by_placeholder("HH:mm").fill("00:00")
        page.keyboard.press("Escape")  # closes the picker, keeps the dialog
        dialog.get_by_text(day.strftime("%b %-d, %Y")).first.wait_for()
        self.shot("trigger")
        dialog.get_by_role("button", name="Trigger").click()


def walk_the_ui(page, login: Login, day: date, shots: Path) -> dict:
    """The whole walk; returns what the checks need."""
    walk = Walk(page, login, shots)
    api = AirflowApi(login)
    walk.log_in()

    page.goto(f"{login.url}/dags")
    page.get_by_role("link", name=DAG).first.wait_for()
    walk.shot("dags")

    walk.open_dag()
    page.get_by_role("button", name="Dag Docs").click()
    docs = page.get_by_role("dialog")
    docs.get_by_text("one run per day of sales data").wait_for()
    documentation = docs.inner_text()
    walk.shot("dag-docs")
    page.keyboard.press("Escape")

    # the pause switch beside the DAG's name: off, then on again
    page.wait_for_load_state("networkidle")
    is_paused = lambda: api.client.get(f"/dags/{DAG}").json()["is_paused"]  # noqa: E731
    active = not is_paused()
    page.get_by_test_id("toggle-pause").first.click()
    paused = _wait_for(is_paused, True)
    walk.shot("paused")
    page.get_by_test_id("toggle-pause").first.click()
    unpaused = _wait_for(is_paused, False)

    walk.trigger(day)
    run = _wait_for(lambda: api.run_of_day(DAG, day), None, negate=True)
    state = api.wait(DAG, run.run_id, poll=3)
    page.goto(f"{login.url}/dags/{DAG}/runs/{run.run_id}")
    page.get_by_text(run.run_id).first.wait_for()
    page.wait_for_load_state("networkidle")
    walk.shot("grid")
    tasks = api.client.get(f"/dags/{DAG}/dagRuns/{run.run_id}/taskInstances").json()["task_instances"]

    page.goto(f"{login.url}/dags/{DAG}/runs/{run.run_id}/tasks/crm.validate")
    page.get_by_text(re.compile(r"accepted=\d+ rejected=\d+")).first.wait_for(timeout=60_000)
    gate_line = page.get_by_text(re.compile(r"accepted=\d+ rejected=\d+")).first.inner_text()
    walk.shot("gate-log")

    # the LiftOff data quality page, from the Browse menu, inside the UI (an iframe of the app
    # the API server mounts at /liftoff, behind the same login)
    page.goto(f"{login.url}/dags")
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Data quality").click()
    page.wait_for_url(re.compile(r"/plugin/data-quality$"))
    quality = page.frame_locator("iframe").first
    quality.get_by_role("table", name="streams").wait_for()
    quality_streams = quality.get_by_role("table", name="streams").inner_text()
    judged = ".".join(re.search(r"batch (\S+):", gate_line).group(1).split(".")[:2])  # the log's stream
    quality.get_by_text(judged, exact=True).last.click()  # its days, under By day
    quality_day = quality.get_by_role("table", name=f"{judged} by day").inner_text()
    walk.shot("data-quality")
    asset_events = api.client.get(
        "/assets/events", params={"source_dag_id": DAG, "source_run_id": run.run_id, "limit": 100}
    ).json()["asset_events"]

    # the dbt docs, which the run's gold refresh had the dbt_docs DAG publish
    def docs_published() -> str | list[str]:
        states = [r["state"] for r in api.client.get("/dags/dbt_docs/dagRuns").json()["dag_runs"]]
        return "success" if "success" in states else states

    docs_state = _wait_for(docs_published, "success", timeout=600)
    page.goto(f"{login.url}/dags")
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="dbt docs").click()
    page.wait_for_url(re.compile(r"/plugin/dbt-docs$"))
    overview = page.frame_locator("iframe").first.get_by_text("auto-generated documentation for your dbt")
    overview.first.wait_for(timeout=60_000)
    docs = next(f for f in page.frames if f != page.main_frame and "/liftoff/dbt-docs" in f.url)
    docs.goto(docs.url.split("#")[0] + "#!/model/model.liftoff.gold_sales_daily")  # a gold model's page
    docs.locator("h1:visible", has_text="gold_sales_daily").first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")
    walk.shot("dbt-docs")

    page.goto(f"{login.url}/dags/{DAG}/runs/{run.run_id}")
    page.get_by_role("button", name="Press shift+c to clear").click()  # the run's Clear button
    clear = page.get_by_role("dialog")
    clear.get_by_role("button", name=re.compile("Clear")).last.wait_for()
    walk.shot("clear-run")
    clear_dialog = clear.inner_text()
    page.keyboard.press("Escape")

    walk.open_dag()
    page.get_by_role("button", name="Trigger").first.click()
    page.get_by_role("dialog").locator("label", has_text="Run this Dag for a range of dates").click()
    page.get_by_role("dialog").get_by_text(re.compile("Reprocess", re.I)).first.wait_for()
    walk.shot("backfill")
    backfill_dialog = page.get_by_role("dialog").inner_text()
    page.keyboard.press("Escape")
    return {
        "documentation": documentation,
        "active": active,
        "paused": paused,
        "unpaused": unpaused,
        "state": state,
        "run": run,
        "tasks": tasks,
        "gate_line": gate_line,
        "quality_streams": quality_streams,
        "quality_day": quality_day,
        "judged": judged,
        "asset_events": asset_events,
        "docs_state": docs_state,
        "clear_dialog": clear_dialog,
        "backfill_dialog": backfill_dialog,
    }


def _wait_for(read, expected, *, negate: bool = False, timeout: float = 60):
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        value = read()
        if (value != expected) if negate else (value == expected):
            return value
        if datetime.now(UTC) > deadline:
            return value
        time.sleep(1)


def test_a_data_engineer_triggers_a_day_and_reads_its_gate_in_the_ui(
    airflow_deployment, browser, tmp_path
) -> None:
    day = datetime.now(UTC).date() - timedelta(days=8)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    shots = ARTEFACTS / "airflow-ui"
    seen = walk_the_ui(page, airflow_deployment.login, day, shots)

    assert "bronze → silver → gold" in seen["documentation"]
    assert (seen["active"], seen["paused"], seen["unpaused"]) == (True, True, False)
    assert "Missing and Errored Runs" in seen["backfill_dialog"]
    assert "Clear only failed tasks" in seen["clear_dialog"]
    assert seen["run"].day == day and seen["state"] == "success"
    assert seen["tasks"] and {t["state"] for t in seen["tasks"]} == {"success"}, seen["tasks"]
    assert re.search(r"landed=\d+ accepted=\d+ rejected=\d+", seen["gate_line"]), seen["gate_line"]
    # the quality page shows the day the gate judged, with the gate's own counts
    landed, accepted, rejected = re.search(
        r"landed=(\d+) accepted=(\d+) rejected=(\d+)", seen["gate_line"]
    ).groups()
    assert "crm.sales" in seen["quality_streams"] and "shop." in seen["quality_streams"]
    day_row = next(line for line in seen["quality_day"].splitlines() if line.startswith(day.isoformat()))
    assert day_row.split()[1:5] == ["archived", landed, accepted, rejected], day_row
    # and so does the landing table's asset event, the gate's task its source
    source, stream = seen["judged"].split(".")
    (event,) = [e for e in seen["asset_events"] if e["uri"].endswith(f"/raw_{source}/{stream}")]
    assert event["source_task_id"] == f"{source}.validate"
    assert {key: event["extra"][key] for key in ("day", "landed", "accepted", "rejected")} == {
        "day": day.isoformat(), "landed": int(landed), "accepted": int(accepted), "rejected": int(rejected),
    }  # fmt: skip
    assert isinstance(event["extra"]["top_errors"], dict) and 0 <= event["extra"]["reject_ratio"] <= 1
    # each gold table's event carries its dbt tests' results in the run
    gold = {e["uri"].rsplit("/", 1)[1]: e for e in seen["asset_events"] if "/gold/" in e["uri"]}
    assert gold and {e["source_task_id"] for e in gold.values()} == {"transformed"}, gold
    daily = gold["gold_sales_daily"]["extra"]["tests"]
    assert daily["pass"] > 0 and daily["fail"] == 0 and len(daily["results"]) == daily["pass"] + daily["warn"]
    for path, title in (("quality", "Data quality"), ("dbt-docs", "gold_sales_daily")):
        signed_out = httpx.get(f"{airflow_deployment.login.url}/liftoff/{path}", timeout=30)
        assert signed_out.status_code == 401 and title not in signed_out.text, path
    assert seen["docs_state"] == "success", seen["docs_state"]  # the dbt_docs run made the page shown
    for name in (
        "dags", "dag-docs", "paused", "trigger", "grid", "gate-log", "data-quality", "dbt-docs", "clear-run",
        "backfill",
    ):  # fmt: skip
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
        shutil.copy(shots / f"{name}.png", tmp_path / f"{name}.png")
    if os.environ.get("LIFTOFF_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        for shot in shots.glob("*.png"):
            shutil.copy(shot, DOCS_IMAGES / shot.name)


APPROVAL = "crm.approve_low_volume"


def gate_usual_days(deployment, api: AirflowApi, quiet: date) -> None:
    """Three usual days of the CRM's sales gated before ``quiet`` (the history its volume is
    judged by): landed as the connector lands them and gated by the pipeline's own step."""
    env = deployment.env
    owner = EmbeddedPostgres(deployment.home / "warehouse", port=int(env["LIFTOFF_EMBEDDED_PG_PORT"])).start()
    with owner.connect() as conn:
        landing = conn.execute("select to_regclass('raw_crm.sales')").fetchone()[0]
    if landing is None:  # the connector makes its landing table: one real run first
        run, _ = api.run_day(DAG, quiet - timedelta(days=4))
        assert api.wait(DAG, run.run_id, poll=3) == "success"
    crm = load_sources()["crm"]
    sales = crm.model_copy(update={"streams": {"sales": crm.streams["sales"]}})
    with owner.connect() as conn:
        for offset in (3, 2, 1):
            usual = quiet - timedelta(days=offset)
            land_sales(conn, sales_for_day(usual).sales)
            validate("crm", sales, Interval.for_day(usual), owner)


def test_on_call_approves_a_quiet_day_from_the_alerts_link(airflow_deployment, browser, tmp_path) -> None:
    deployment, api = airflow_deployment, AirflowApi(airflow_deployment.login)
    day = datetime.now(UTC).date() - timedelta(days=20)
    gate_usual_days(deployment, api, day)
    demo_api = deployment.env["LIFTOFF_API_URL"]
    httpx.post(
        f"{demo_api}/_quiet", json={"days": [day.isoformat()], "rows": 3}, timeout=30
    ).raise_for_status()
    try:
        run, _ = api.run_day(DAG, day)
        instance = f"/dags/{DAG}/dagRuns/{run.run_id}/taskInstances/{APPROVAL}"
        asked = _wait_for(lambda: api.client.get(instance).json().get("state"), "awaiting_input", timeout=600)
    finally:
        httpx.post(f"{demo_api}/_quiet", json={"days": []}, timeout=30).raise_for_status()
    assert asked == "awaiting_input", (asked, api.failed_tasks(DAG, run.run_id))
    alert = task_log(api, run.run_id, APPROVAL)
    assert "crm is far quieter than usual: approve or reject it" in alert, alert
    link = re.search(r"decide: (http\S+)", alert).group(1)
    assert link.startswith(
        f"{deployment.login.url}/dags/{DAG}/runs/{run.run_id}/tasks/{APPROVAL}/required_actions"
    )

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    shots = ARTEFACTS / "airflow-ui"
    walk = Walk(page, deployment.login, shots)
    walk.log_in()
    page.goto(link)  # what on-call opens from the alert
    page.get_by_text("a day far quieter than usual").first.wait_for(timeout=60_000)
    question = page.get_by_text("landed 3 rows").first.inner_text()
    approve = page.get_by_test_id("hitl-option-Approve")
    reason_required = approve.is_disabled()  # no decision without a reason
    page.locator("#element_reason").fill("Black Friday: the shops closed at noon")  # the Reason field
    walk.shot("approval")
    approve.click()
    assert api.wait(DAG, run.run_id, poll=3) == "success", api.failed_tasks(DAG, run.run_id)

    detail = api.client.get(
        f"/dags/{DAG}/dagRuns/{run.run_id}/taskInstances/{APPROVAL}/-1/hitlDetails"
    ).json()
    assert detail["chosen_options"] == ["Approve"] and detail["responded_by_user"]["name"] == "admin", detail
    assert "landed 3 rows, under 25% of the median of its last" in question, question
    assert reason_required
    assert "the quiet day was approved by admin: Black Friday: the shops closed at noon" in task_log(
        api, run.run_id, APPROVAL
    )
    assert (shots / "approval.png").stat().st_size > 10_000
    shutil.copy(shots / "approval.png", tmp_path / "approval.png")
    if os.environ.get("LIFTOFF_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(shots / "approval.png", DOCS_IMAGES / "approval.png")
