"""dbt's test results, per model, as the gold asset events carry them."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from liftoff.transform.test_results import XCOM_KEY, gathered_tests, model_results, push_test_results

MODEL = "model.liftoff.gold_sales_daily"


def target(tmp_path: Path, results: dict[str, str]) -> Path:
    """A dbt command's target/: the manifest's nodes and the run's results (dbt's shapes)."""
    folder = tmp_path / "target"
    folder.mkdir()
    nodes = {MODEL: {"resource_type": "model", "name": "gold_sales_daily"}}
    for name in results:
        nodes[f"test.liftoff.{name}"] = {"resource_type": "test", "name": name, "attached_node": MODEL}
    nodes["test.liftoff.relationships_free"] = {
        "resource_type": "test",
        "name": "free",
        "attached_node": None,
    }
    (folder / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    run = [{"unique_id": f"test.liftoff.{name}", "status": status} for name, status in results.items()]
    run += [
        {"unique_id": MODEL, "status": "success"},
        {"unique_id": "test.liftoff.relationships_free", "status": "pass"},
    ]
    (folder / "run_results.json").write_text(json.dumps({"results": run}))
    return folder


def test_each_test_is_counted_on_the_model_it_is_attached_to(tmp_path: Path) -> None:
    folder = target(
        tmp_path, {"not_null_sale_date": "pass", "unique_sale_date": "pass", "revenue_range": "warn"}
    )
    assert model_results(folder) == {
        "gold_sales_daily": {
            "not_null_sale_date": "pass",
            "unique_sale_date": "pass",
            "revenue_range": "warn",
        }
    }
    assert model_results(tmp_path / "missing") == {}


def test_the_callback_pushes_them_and_the_run_merges_its_tasks(tmp_path: Path) -> None:
    target(tmp_path, {"not_null_sale_date": "pass"})
    pushed: dict = {}
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.update({key: value}))
    push_test_results(str(tmp_path), context={"ti": ti})
    assert pushed == {XCOM_KEY: {"gold_sales_daily": {"not_null_sale_date": "pass"}}}
    merged = gathered_tests([pushed[XCOM_KEY], None, {"gold_sales_daily": {"unique_sale_date": "warn"}}])
    assert merged == {
        "gold_sales_daily": {
            "pass": 1, "warn": 1, "fail": 0,
            "results": {"not_null_sale_date": "pass", "unique_sale_date": "warn"},
        }
    }  # fmt: skip
