"""Lineage on the embedded default: `liftoff airflow` writes an OpenLineage event file at the
start and the end of every task under `$LIFTOFF_HOME/lineage/`; each is an OpenLineage run event,
and the datasets connect each source's stream (its API stream, its Kafka topic) through the
landing tables and the dbt layers to the gold tables, by name."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from liftoff.lineage import lineage_dir
from liftoff.transform.gold_assets import gold_tables

DAG = "sales_elt"
SALES_GOLD = ("gold_sales_daily", "gold_sales_by_product_7d", "gold_sales_by_seller_7d")
# A URL with a login and a password in it (a connection's URI): never in an event.
URL_WITH_PASSWORD = re.compile(r"[a-z+]+://[^/\s:@\"']+:[^@/\s\"']+@")


def read_events(home: Path) -> list[dict]:
    """Every event file under the home's lineage folder (one JSON document each)."""
    return [json.loads(path.read_text()) for path in sorted(lineage_dir(home).glob("events-*.json"))]


def airflow_run_ids(events: list[dict]) -> dict[str, str]:
    """OpenLineage run id -> the Airflow DAG run's id, from the events that name it."""
    found = {}
    for event in events:
        facets = event["run"].get("facets", {})
        facet = facets.get("airflow") or facets.get("airflowDagRun") or {}  # a task's, the DAG run's
        if run_id := facet.get("dagRun", {}).get("run_id"):
            found[event["run"]["runId"]] = run_id
    return found


def events_of_run(events: list[dict], run_id: str) -> list[dict]:
    ids = airflow_run_ids(events)
    return [e for e in events if ids.get(e["run"]["runId"]) == run_id]


def dataset(d: dict) -> tuple[str, str]:
    return d["namespace"], d["name"]


def lineage_graph(events: list[dict]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """Dataset -> the datasets a job wrote having read it (every event's inputs x outputs)."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for event in events:
        for read in event.get("inputs", []):
            graph[dataset(read)].update(dataset(out) for out in event.get("outputs", []))
    return graph


def reachable(graph, start: tuple[str, str]) -> set[tuple[str, str]]:
    seen, todo = {start}, [start]
    while todo:
        for following in graph.get(todo.pop(), ()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


EVENT_TYPES = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}


def check_run_event(event: dict) -> None:
    """The RunEvent rules of the OpenLineage 2-0-2 core spec (its required fields and formats;
    the spec's JSON is not on any registry reachable here, so it is not vendored): the event,
    its run, job and datasets, and every facet a BaseFacet (``_producer``, ``_schemaURL``)."""
    assert event["eventType"] in EVENT_TYPES, event["eventType"]
    datetime.fromisoformat(event["eventTime"].replace("Z", "+00:00"))
    assert urlsplit(event["producer"]).scheme and urlsplit(event["schemaURL"]).scheme, event["producer"]
    assert event["schemaURL"].startswith("https://openlineage.io/spec/2-"), event["schemaURL"]
    uuid.UUID(event["run"]["runId"])
    assert event["job"]["namespace"] and event["job"]["name"], event["job"]
    bags = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for d in event.get("inputs", []) + event.get("outputs", []):
        assert isinstance(d["namespace"], str) and d["namespace"] and d["name"], d
        bags += [d.get("facets", {}), d.get("inputFacets", {}), d.get("outputFacets", {})]
    for bag in bags:
        for name, facet in bag.items():
            assert urlsplit(facet["_producer"]).scheme and urlsplit(facet["_schemaURL"]).scheme, name


def test_every_task_of_a_day_emits_valid_connected_lineage(airflow_deployment) -> None:
    api = airflow_deployment.api()
    day = datetime.now(UTC).date() - timedelta(days=26)  # a day no other test of the deployment runs
    run, _ = api.run_day(DAG, day)
    assert api.wait(DAG, run.run_id, poll=3) == "success", api.failed_tasks(DAG, run.run_id)

    instances = api.client.get(f"/dags/{DAG}/dagRuns/{run.run_id}/taskInstances", params={"limit": 200})
    ran = {t["task_id"] for t in instances.json()["task_instances"] if t["state"] == "success"}
    home = airflow_deployment.home
    deadline = time.monotonic() + 120  # the COMPLETE events are written as the tasks end
    while True:
        events = events_of_run(read_events(home), run.run_id)
        done = {e["job"]["name"].removeprefix(f"{DAG}.") for e in events if e["eventType"] == "COMPLETE"}
        if ran <= done or time.monotonic() > deadline:
            break
        time.sleep(2)

    # START and COMPLETE for every task of the run (the DAG's own run too)
    kinds = defaultdict(set)
    for event in events:
        kinds[event["job"]["name"]].add(event["eventType"])
    missing = {t: kinds.get(f"{DAG}.{t}", set()) for t in ran if {"START", "COMPLETE"} - kinds[f"{DAG}.{t}"]}
    assert not missing, f"tasks without a START and a COMPLETE event: {missing}"
    assert {"START", "COMPLETE"} <= kinds[DAG], kinds[DAG]

    # connected: each source stream reaches each sales gold table by dataset names
    complete = [e for e in events if e["eventType"] == "COMPLETE"]
    graph = lineage_graph(complete)
    streams = {
        dataset(d) for e in complete if e["job"]["name"].endswith(".ingest") for d in e.get("inputs", [])
    }
    kafka = {s for s in streams if s[0].startswith("kafka://")}
    apis = {s for s in streams if s[0].startswith("http")}
    assert kafka and apis, f"ingest inputs: {streams}"
    assert ("kafka", "pos.sales") not in streams and any(name == "pos.sales" for _, name in kafka)
    outputs = {dataset(d) for e in complete for d in e.get("outputs", [])}
    gold = {d for d in outputs if d[1].split(".")[1:2] == ["gold"]}
    assert {d[1].split(".")[2] for d in gold} >= set(gold_tables()), gold
    for stream in streams:
        reached = {d[1].split(".")[2] for d in reachable(graph, stream) & gold}
        assert reached >= set(SALES_GOLD), f"{stream} reaches only {reached}"

    # the gate's counts, as a data-quality facet of each landing table it read
    validate = [e for e in complete if e["job"]["name"].endswith(".validate")]
    assert validate
    for event in validate:
        for read in event["inputs"]:
            metrics = read["inputFacets"]["dataQualityMetrics"]
            assertions = read["inputFacets"]["dataQualityAssertions"]["assertions"]
            assert metrics["rowCount"] >= 0
            assert any(a["assertion"] == "landed = accepted + rejected" and a["success"] for a in assertions)
        assert {d["name"].split(".", 1)[1] for d in event["outputs"]} == {"audit.batches", "audit.quarantine"}

    # the archive: each landing table to its object
    archived = [d for e in complete if e["job"]["name"].endswith(".archive") for d in e["outputs"]]
    assert archived and all(f"dt={day}" in d["name"] for d in archived), archived

    # no secret of the deployment in any event (all of them: other runs' too)
    text = "\n".join(p.read_text() for p in lineage_dir(home).glob("events-*.json"))
    env = airflow_deployment.env
    secrets = {airflow_deployment.login.password} | {
        value
        for name, value in env.items()
        if re.search(r"PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY", name) and len(value) >= 8
    }
    private = [p for p in (home / "airflow").rglob("*") if p.is_file() and p.stat().st_mode & 0o077 == 0]
    secrets |= {p.read_text().strip() for p in private if p.stat().st_size < 512}
    leaked = sorted(s[:4] + "…" for s in secrets if s and s in text)
    assert not leaked, f"secrets in lineage events: {leaked}"
    assert not URL_WITH_PASSWORD.search(text), URL_WITH_PASSWORD.search(text).group(0)

    # valid OpenLineage run events, every one
    for event in events:
        check_run_event(event)


def test_the_export_of_gold_reads_the_gold_tables_and_writes_the_days_files(airflow_deployment) -> None:
    """gold_export, scheduled on the gold assets, emits its lineage too: gold tables -> CSVs."""
    home = airflow_deployment.home
    deadline = time.monotonic() + 600
    while True:
        exports = [
            e
            for e in read_events(home)
            if e["job"]["name"] == "gold_export.export_gold" and e["eventType"] == "COMPLETE"
        ]
        if exports or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert exports, "no COMPLETE event of gold_export.export_gold"
    event = exports[-1]
    assert {d["name"].split(".")[2] for d in event["inputs"]} == set(gold_tables())
    assert all(d["name"].endswith(".csv") and "/exports/" in d["name"] for d in event["outputs"])
    assert all(d["outputFacets"]["outputStatistics"]["rowCount"] >= 0 for d in event["outputs"])
    # the runs the same gold events started (dbt_docs) end before the deployment is stopped
    while api_running(airflow_deployment.api()) and time.monotonic() < deadline:
        time.sleep(5)


def api_running(api) -> list[str]:
    """The runs of any DAG still going."""
    runs = api.client.get("/dags/~/dagRuns", params={"state": ["running", "queued"]}).json()["dag_runs"]
    return [f"{r['dag_id']} {r['dag_run_id']}" for r in runs]
