"""Each dbt test's result, for the asset events of the tables it tests.

Cosmos calls ``push_test_results`` after every dbt command of a run's layers (the operators'
``callback``): it reads what dbt wrote in the command's ``target/`` (``run_results.json``
for the results, ``manifest.json`` for the model each test is attached to) and pushes, per
model, its tests' statuses to the task's XCom. The run's ``transformed`` task gathers them
(``gathered_tests``) into each gold table's asset event: ``{"tests": {"pass": 5, "warn": 0,
"fail": 0, "results": {"<test>": "pass", …}}}``. A test that failed stopped the run before
that, so an event's tests passed or warned; the failure itself is in the task's log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

XCOM_KEY = "dbt_tests"


def model_results(target: Path) -> dict[str, dict[str, str]]:
    """Per model name, ``{test name: status}`` from a dbt command's ``target`` folder."""
    run_results, manifest = target / "run_results.json", target / "manifest.json"
    if not run_results.is_file() or not manifest.is_file():
        return {}
    nodes = json.loads(manifest.read_text())["nodes"]
    by_model: dict[str, dict[str, str]] = {}
    for result in json.loads(run_results.read_text())["results"]:
        node = nodes.get(result["unique_id"], {})
        attached = node.get("attached_node")
        if node.get("resource_type") != "test" or not attached or attached not in nodes:
            continue
        by_model.setdefault(nodes[attached]["name"], {})[node["name"]] = result["status"]
    return by_model


def push_test_results(project_dir: str, context: dict | None = None, **_: Any) -> None:
    """Cosmos' callback: this command's tests, per model, to the task's XCom."""
    results = model_results(Path(project_dir) / "target")
    if results and context is not None:
        context["ti"].xcom_push(key=XCOM_KEY, value=results)


def summary(results: dict[str, str]) -> dict[str, Any]:
    """A table's tests as its asset event carries them."""
    counts = {status: sum(1 for s in results.values() if s == status) for status in ("pass", "warn", "fail")}
    return {**counts, "results": dict(sorted(results.items()))}


def gathered_tests(pushed: list[dict[str, dict[str, str]] | None]) -> dict[str, dict[str, Any]]:
    """The run's pushed results (one per dbt task, None where none), merged, per model."""
    merged: dict[str, dict[str, str]] = {}
    for results in pushed:
        for model, tests in (results or {}).items():
            merged.setdefault(model, {}).update(tests)
    return {model: summary(tests) for model, tests in merged.items()}
