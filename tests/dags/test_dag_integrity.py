"""DAG integrity: every DAG imports, is owned, retried, tagged, acyclic, and covers a whole day."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from liftoff.config import PROJECT_ROOT, landing_schema, load_sources
from liftoff.derive import contract_model, streams
from liftoff.transform.task_groups import DBT_EXECUTION_SETTINGS

SOURCES = load_sources()  # the one list: every expectation below is read from it
STREAMS = streams(SOURCES)
SYNCED = [name for name, source in SOURCES.items() if not source.is_pushed]  # synced or streamed
PUSHED = [name for name, source in SOURCES.items() if source.is_pushed]
STREAMED = [name for name, source in SOURCES.items() if source.is_streamed]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("airflow")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PROJECT_ROOT / "plugins")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "sales_elt" in dagbag.dags


def test_every_dag_has_owner_retries_tags_and_docs(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
        assert dag.default_args.get("retries", 0) >= 1, f"{dag_id} is not retried"


def test_every_run_of_day_d_has_logical_date_d_and_covers_d(dagbag) -> None:
    """Scheduled, backfilled and triggered runs of a day are one run: logical date = day."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import DataInterval, TimeRestriction

    dag = dagbag.dags["sales_elt"]
    assert dag.catchup is False
    # as the scheduler holds it: serialized and read back (the plugin registers the class)
    timetable = DagSerialization.from_dict(DagSerialization.to_dict(dag)).timetable
    assert type(timetable) is type(coerce_to_core_timetable(dag.timetable))
    day = datetime(2026, 11, 20, tzinfo=UTC)
    for trigger in (day, day + timedelta(hours=13, minutes=45)):  # a trigger of D, at midnight or later
        interval = timetable.infer_manual_data_interval(run_after=trigger)
        assert (interval.start, interval.end) == (day, day + timedelta(days=1))
    scheduled = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(day - timedelta(days=1), day),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
    )
    assert (scheduled.logical_date, scheduled.data_interval.start) == (day, day)


def test_a_failed_task_alerts_and_a_late_run_has_a_deadline(dagbag) -> None:
    from liftoff.notifiers.alerts import TaskFailedNotifier

    for dag in dagbag.dags.values():
        assert all(task.on_failure_callback for task in dag.tasks), dag.dag_id
    sales = dagbag.dags["sales_elt"]
    deadlines = sales.deadline if isinstance(sales.deadline, list) else [sales.deadline]
    assert [d.callback.path for d in deadlines] == ["liftoff.notifiers.alerts.on_run_late"]
    assert any(isinstance(c, TaskFailedNotifier) for c in sales.get_task("crm.ingest").on_failure_callback)


MODELS = [
    *(stream.model for stream in STREAMS),
    *sorted({contract_model(stream.config.contract) for stream in STREAMS}),
    "silver_sales",
    "silver_sellers",
    "silver_products",
    "gold_sales_daily",
    "gold_products",
    "gold_sales_by_product_7d",
    "gold_sales_by_seller_7d",
]


def parsed(dag_id: str, **settings: str):
    """The DAG of ``dags/<dag_id>.py`` as parsed with these LIFTOFF_* settings."""
    from airflow.dag_processing.dagbag import DagBag

    from liftoff.config import get_settings

    saved = dict(os.environ)
    os.environ.update({f"LIFTOFF_{key.upper()}": value for key, value in settings.items()})
    get_settings.cache_clear()
    try:
        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / f"{dag_id}.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def sales_elt_under(setting: str, skip_sources: str = ""):
    """sales_elt as parsed with LIFTOFF_DBT_EXECUTION=setting (every source, unless skipped)."""
    return parsed("sales_elt", dbt_execution=setting, skip_sources=skip_sources)


@pytest.fixture(scope="module", params=DBT_EXECUTION_SETTINGS)
def sales_elt(request: pytest.FixtureRequest, dagbag):
    """sales_elt under each Cosmos execution setting (LIFTOFF_DBT_EXECUTION)."""
    return sales_elt_under(request.param)


def source_leaves(names) -> set[str]:
    """The last tasks of these sources' groups, which silver waits for: `archive`, and
    the checks after `validate` (`freshness`, `approve_low_volume`) where sources.yaml sets them."""
    leaves = set()
    for name in names:
        source = SOURCES[name]
        leaves.add(f"{name}.archive")
        if source.freshness is not None:
            leaves.add(f"{name}.freshness")
        if any(stream.min_volume_ratio for stream in source.streams.values()):
            leaves.add(f"{name}.approve_low_volume")
    return leaves


def model_tasks(dag, model: str) -> tuple[str, str]:
    """The first and the last task of a model: its layer's `build`, its `<model>_model_build`,
    or `.run` then `.test`."""
    layer = model.split("_")[0]
    for build in (f"{layer}.build", f"{layer}.{model}_model_build", f"{layer}.{model}_run"):
        if build in dag.task_dict:  # (a model without tests, a union view, is one run task)
            return build, build
    return f"{layer}.{model}.run", f"{layer}.{model}.test"


def test_sales_elt_order_is_ingest_validate_then_layers_silver_after_archive_and_checks(sales_elt) -> None:
    dag = sales_elt
    ids = set(dag.task_dict)
    assert SYNCED and PUSHED, "sources.yaml has both kinds"
    for source in SYNCED:
        assert {f"{source}.ingest", f"{source}.validate", f"{source}.archive"} <= ids
        assert dag.task_dict[f"{source}.validate"].upstream_task_ids == {f"{source}.ingest"}
        assert dag.task_dict[f"{source}.archive"].upstream_task_ids == {f"{source}.validate"}
    for model in MODELS:
        first, last = model_tasks(dag, model)
        assert {first, last} <= ids, model
    for source in PUSHED:  # an app's pushed source: nothing to sync, its batch validated then archived
        assert f"{source}.ingest" not in ids and not dag.task_dict[f"{source}.validate"].upstream_task_ids
        assert dag.task_dict[f"{source}.archive"].upstream_task_ids == {f"{source}.validate"}
    wait = dag.task_dict["previous_day_transformed"]
    assert not wait.upstream_task_ids, "it waits for the eve beside the syncs, from the run's start"
    assert hasattr(wait, "execute_complete"), "it waits deferred: no worker slot held"
    roots = list(dag.task_group_dict["bronze"].get_roots())  # the first layer's first tasks
    assert roots
    for task in roots:
        assert task.upstream_task_ids == {f"{source}.validate" for source in SOURCES}, (
            "every source's batches gated; not the eve: a day's bronze is its own slice,"
            " built beside the archives and the checks"
        )
    for stream in STREAMS:
        before = dag.task_dict[model_tasks(dag, stream.model)[0]].get_flat_relative_ids(upstream=True)
        assert "previous_day_transformed" not in before
        assert not [t for t in before if f"{landing_schema(stream.source)}_{stream.name}" in t], (
            "no dbt source task: freshness is the source's own check, on the data"
        )
    silver_roots = list(dag.task_group_dict["silver"].get_roots())
    assert silver_roots
    for task in silver_roots:
        assert "previous_day_transformed" in task.upstream_task_ids, "silver after the eve's gold"
        assert source_leaves(SOURCES) <= task.upstream_task_ids, (
            "nothing of the day reaches silver before every source is archived and checked"
        )
    before_silver = dag.task_dict[model_tasks(dag, "silver_sales")[0]].get_flat_relative_ids(upstream=True)
    assert {model_tasks(dag, m)[1] for m in MODELS if m.startswith("bronze")} <= before_silver, (
        "silver waits for every bronze model and its tests"
    )
    dbt_tasks = [task for task in dag.tasks if hasattr(task, "project_dir")]  # Cosmos' dbt operators
    assert dbt_tasks and all(task.max_active_tis_per_dag == 1 for task in dbt_tasks), (
        "a dbt task runs for one day at a time (days' bronze side by side would rebuild one view)"
    )
    before_done = dag.task_dict["transformed"].get_flat_relative_ids(upstream=True)
    assert {model_tasks(dag, m)[1] for m in MODELS if m.startswith("gold")} <= before_done
    assert not dag.task_dict["transformed"].downstream_task_ids


def test_a_stream_source_lands_from_its_topic_and_a_skipped_source_is_left_out(dagbag) -> None:
    assert STREAMED, "sources.yaml has a stream source"
    dag = sales_elt_under("layer")
    for name in STREAMED:
        assert SOURCES[name].kafka.topic in dag.task_dict[f"{name}.ingest"].doc_md
    skipped = sales_elt_under("layer", skip_sources=",".join(STREAMED))
    assert not [task for task in skipped.task_dict if task.split(".")[0] in STREAMED]
    kept = [name for name in SOURCES if name not in STREAMED]
    assert skipped.task_dict["bronze.build"].upstream_task_ids == {f"{name}.validate" for name in kept}
    assert skipped.task_dict["silver.build"].upstream_task_ids == {
        "bronze.build",
        "previous_day_transformed",
        *source_leaves(kept),
    }


def test_pos_today_is_scheduled_by_a_watcher_on_each_stream_sources_topic() -> None:
    from airflow.providers.apache.kafka.triggers.msg_queue import KafkaMessageQueueTrigger

    dag = parsed("pos_today", skip_sources="")
    assets = list(dag.timetable.asset_condition.objects)
    assert sorted(a.name for a in assets) == sorted(f"{n}.{SOURCES[n].kafka.topic}" for n in STREAMED)
    for asset in assets:
        (watcher,) = asset.watchers
        assert isinstance(watcher.trigger, KafkaMessageQueueTrigger)
    assert dag.max_active_runs == 1 and {t.task_id for t in dag.tasks} == {
        f"land_{n}_today" for n in STREAMED
    }


def test_freshness_thresholds_where_a_quiet_day_is_not_normal() -> None:
    """What dbt's source freshness had (26 h, 7 days), now per source and on the data; none for
    the sources whose quiet day is normal (an app's entries, a closed shop's terminals)."""
    for name in ("crm", "shop"):
        freshness = SOURCES[name].freshness
        assert (freshness.warn_after, freshness.error_after) == (26, 168), name
        assert SOURCES[name].fresh_streams() == [
            stream for stream, config in SOURCES[name].streams.items() if config.sync == "incremental"
        ]
    for name in PUSHED + STREAMED:
        assert SOURCES[name].freshness is None, name


def test_layer_setting_is_one_dbt_build_per_layer(dagbag) -> None:
    dag = sales_elt_under("layer")
    layers = [task for task in dag.tasks if task.task_id.split(".")[0] in ("bronze", "silver", "gold")]
    assert sorted(t.task_id for t in layers) == ["bronze.build", "gold.build", "silver.build"]
    assert dag.task_dict["bronze.build"].upstream_task_ids == {f"{name}.validate" for name in SOURCES}
    assert dag.task_dict["silver.build"].upstream_task_ids == {
        "bronze.build",
        "previous_day_transformed",
        *source_leaves(SOURCES),
    }
    assert dag.task_dict["gold.build"].upstream_task_ids == {"silver.build"}

    def weight(task_id: str) -> int:  # Airflow's default rule: the task's own and its downstream's
        task = dag.task_dict[task_id]
        return task.priority_weight + sum(
            dag.task_dict[t].priority_weight for t in task.get_flat_relative_ids()
        )

    for task_id in source_leaves(SOURCES):  # ready together with bronze
        assert weight("bronze.build") > weight(task_id), (
            f"bronze is queued before {task_id} when workers are short"
        )
    for layer in ("bronze", "silver", "gold"):
        build = dag.task_dict[f"{layer}.build"]
        assert build.select == [f"path:models/{layer}"]
        assert build.indirect_selection == "buildable", "a relationship test runs with the later model"
        assert build.env["LIFTOFF_INTERVAL_START"] == "{{ data_interval_start.isoformat() }}"
        assert build.env["LIFTOFF_INTERVAL_END"] == "{{ data_interval_end.isoformat() }}"
        assert not build.vars, "vars would change each day and force dbt to parse the project in full"
    assert len({task.cache_dir for task in layers}) == 1, (
        "one partial-parse cache: the project is parsed once"
    )


def test_watcher_sensors_read_their_layers_build_once_it_is_done(dagbag) -> None:
    dag = sales_elt_under("watcher")
    for layer in ("bronze", "silver", "gold"):
        producer = dag.task_dict[f"{layer}.dbt_producer_watcher"]
        assert producer.indirect_selection == "buildable"
        sensors = [t for t in dag.tasks if t.task_id.startswith(f"{layer}.") and t is not producer]
        for sensor in sensors:
            if sensor.task_id.endswith("_done"):
                continue
            assert producer.task_id in sensor.get_flat_relative_ids(upstream=True), sensor.task_id
            if producer.task_id in sensor.upstream_task_ids:
                assert sensor.trigger_rule == "one_done", "a failed build still lets each sensor report"


def test_airbyte_mode_builds_the_deferrable_provider_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from liftoff.config import get_settings
    from liftoff.operators.airbyte_sync import AirbyteSyncOperator

    monkeypatch.setenv("LIFTOFF_INGEST_MODE", "airbyte")
    monkeypatch.setenv("LIFTOFF_AIRBYTE_CRM_CONNECTION_ID", "3f1c2a9e-crm")
    monkeypatch.setenv("LIFTOFF_AIRBYTE_SHOP_CONNECTION_ID", "9b7e4d10-shop")
    get_settings.cache_clear()
    try:
        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "sales_elt.py"))
    finally:
        get_settings.cache_clear()
    assert bag.import_errors == {}
    ingest = bag.dags["sales_elt"].task_dict["crm.ingest"]
    assert isinstance(ingest, AirbyteSyncOperator)
    assert (ingest.deferrable, ingest.connection_id_env, ingest.airbyte_conn_id) == (
        True,
        "LIFTOFF_AIRBYTE_CRM_CONNECTION_ID",
        "airbyte",
    )
    ingest._resolve_connection_id()  # what execute does first, when the task runs
    assert ingest.connection_id == "3f1c2a9e-crm"
    assert ingest.timeout == 3600 and ingest.execution_timeout.total_seconds() == 3900
    assert bag.dags["sales_elt"].task_dict["crm.validate"].upstream_task_ids == {"crm.ingest"}
    # its lineage, as the OpenLineage provider asks for it: the CRM's streams to its landing tables
    monkeypatch.setenv("LIFTOFF_API_URL", "http://crm.example.com:8765")
    lineage = ingest.get_openlineage_facets_on_complete(None)
    assert {d.name.split(".", 1)[1] for d in lineage.outputs} == {
        "raw_crm.sales",
        "raw_crm.sellers",
        "raw_crm.products",
    }
    assert {(d.namespace, d.name.rsplit("/", 1)[-1]) for d in lineage.inputs} == {
        ("http://crm.example.com:8765", stream) for stream in ("sales", "sellers", "products")
    }


def test_airbyte_mode_without_its_connection_id_fails_that_ingest_task_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.exceptions import AirflowFailException

    from liftoff.config import get_settings

    monkeypatch.setenv("LIFTOFF_INGEST_MODE", "airbyte")
    monkeypatch.delenv("LIFTOFF_AIRBYTE_CRM_CONNECTION_ID", raising=False)
    monkeypatch.setenv("LIFTOFF_AIRBYTE_SHOP_CONNECTION_ID", "9b7e4d10-shop")
    get_settings.cache_clear()
    try:
        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "sales_elt.py"))
    finally:
        get_settings.cache_clear()
    assert bag.import_errors == {}, "the id is read when the task runs, not when the DAG is parsed"
    with pytest.raises(AirflowFailException, match=r"^LIFTOFF_AIRBYTE_CRM_CONNECTION_ID is not set"):
        bag.dags["sales_elt"].task_dict["crm.ingest"].execute({})
