"""liftoff.lineage: where the embedded default writes its events, and the datasets' names."""

from __future__ import annotations

import json
from pathlib import Path

from liftoff.lineage import (
    TaskLineage,
    api_stream,
    archive_object,
    gate_facets,
    kafka_topic,
    lineage_env,
    lineage_task,
)


def test_the_embedded_default_writes_one_file_per_event_under_the_home(tmp_path: Path) -> None:
    env = lineage_env(tmp_path, environ={})
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport == {
        "type": "file",
        "log_file_path": str(tmp_path / "lineage" / "events"),
        "append": False,
        "debug_mode": True,
    }
    assert (tmp_path / "lineage").is_dir()
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "liftoff"


def test_a_transport_already_configured_is_kept(tmp_path: Path) -> None:
    for configured in (
        {"OPENLINEAGE_URL": "http://marquez:5000"},
        {"AIRFLOW__OPENLINEAGE__TRANSPORT": '{"type": "console"}'},
    ):
        env = lineage_env(tmp_path / "home", environ=configured)
        assert "AIRFLOW__OPENLINEAGE__TRANSPORT" not in env
    assert not (tmp_path / "home").exists()


def test_dataset_names_follow_the_openlineage_naming_spec() -> None:
    assert api_stream("http://user:secret@127.0.0.1:8765/", "/shop", "orders") == (
        "http://127.0.0.1:8765",
        "shop/orders",
    )
    assert api_stream("https://crm.example.com", "", "sales") == ("https://crm.example.com:443", "sales")
    assert kafka_topic("broker-1:9092,broker-2:9092", "pos.sales") == ("kafka://broker-1:9092", "pos.sales")
    assert kafka_topic("localhost", "pos.sales") == ("kafka://localhost:9092", "pos.sales")

    class Bucket:
        bucket = "liftoff-archive"

    class Folder:
        root = Path("/srv/archive")

    key = "raw/crm/sales/dt=2026-11-20/part.jsonl.zst"
    assert archive_object(Bucket(), key) == ("s3://liftoff-archive", key)
    assert archive_object(Folder(), key) == ("file", f"/srv/archive/{key}")


def test_the_gates_counts_are_a_data_quality_facet_of_the_landing_table() -> None:
    from openlineage.client.serde import Serde

    table = ("postgres://127.0.0.1:5432", "liftoff.raw_crm.sales")
    counts = {"landed": 10, "accepted": 8, "rejected": 2, "top_errors": {"seller_email": 2}}
    lineage = TaskLineage(inputs=[table], input_facets={table: gate_facets(counts, max_reject_ratio=0.1)})
    (dataset,) = lineage.operator_lineage().inputs
    read = json.loads(Serde.to_json(dataset))
    assert (read["namespace"], read["name"]) == table
    facets = read["inputFacets"]
    assert facets["dataQualityMetrics"]["rowCount"] == 10
    assert facets["dataQualityMetrics"]["_schemaURL"].endswith(
        "DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet"
    )
    assertions = {
        (a["assertion"], a.get("column")): a["success"] for a in facets["dataQualityAssertions"]["assertions"]
    }
    assert assertions == {
        ("accepted 8 of 10 rows", None): False,
        ("rejected 2 rows: ratio 0.2000 <= 0.1", None): False,
        ("landed = accepted + rejected", None): True,
        ("contract: 2 rows invalid", "seller_email"): False,
    }


def test_a_lineage_task_answers_the_provider_with_what_it_returned() -> None:
    """The provider's DefaultExtractor calls these methods on the operator that ran."""
    from airflow.sdk import DAG

    seen = []

    def lineage(result) -> TaskLineage:
        seen.append(result)
        return TaskLineage(outputs=[("postgres://h:1", f"db.s.{result or 'unknown'}")])

    with DAG("lineage_probe", schedule=None):

        @lineage_task(task_id="probe", lineage=lineage)
        def probe() -> str:
            return "written"

        operator = probe().operator

    assert operator.task_id == "probe" and operator.custom_operator_name == "@task"
    assert [d.name for d in operator.get_openlineage_facets_on_start().outputs] == ["db.s.unknown"]
    assert operator.execute({}) == "written"  # as the task runner runs it, context aside
    assert [d.name for d in operator.get_openlineage_facets_on_complete(None).outputs] == ["db.s.written"]
    assert seen == [None, "written"]
