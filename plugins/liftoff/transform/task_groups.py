"""Cosmos configuration: one task group per dbt layer, run as ``LIFTOFF_DBT_EXECUTION`` says.

With ``layer`` (the default), each layer is one `dbt build` task. With ``build``, ``local``
or ``watcher``, each layer is a Cosmos ``DbtTaskGroup`` of per-model tasks, rendered from the
precompiled manifest.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import get_args

from airflow.sdk import TaskGroup, TriggerRule
from airflow.sdk.exceptions import AirflowFailException
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos import settings as cosmos_settings
from cosmos.constants import (
    ExecutionMode,
    InvocationMode,
    LoadMode,
    SourceRenderingBehavior,
    TestBehavior,
    TestIndirectSelection,
)
from cosmos.exceptions import CosmosDbtRunError
from cosmos.operators.local import DbtBuildLocalOperator
from cosmos.profiles import PostgresUserPasswordProfileMapping

from liftoff.batch import Interval
from liftoff.config import (
    DBT_PROJECT_DIR,
    LAYERS,
    MANIFEST_PATH,
    DbtExecution,
    Settings,
    SourceConfig,
    get_settings,
)
from liftoff.dag_defaults import DEFAULT_ARGS

# dbt's unit tests check the models' logic on fixtures: they run in CI (tests/dbt), not in
# the daily pipeline (dbt's own advice; a unit test of an incremental model also needs the
# model to exist, which a first run does not have). No dbt.log: Cosmos runs dbt in a
# temporary copy of the project and deletes it, log and all, so writing every debug line of
# a build (its SQL too) was work nobody could read; what dbt prints (info) is the task's log.
PIPELINE_DBT_ENV = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test", "DBT_LOG_LEVEL_FILE": "none"}
DBT_EXECUTION_SETTINGS: tuple[str, ...] = get_args(DbtExecution)
TEST_SELECTION = TestIndirectSelection.BUILDABLE
DEFAULT_DBT_EXECUTION: str = Settings.model_fields["dbt_execution"].default

# The run's data interval reaches every dbt command in its environment (never as vars,
# which would force a full parse of the project each day: macros/run_interval.sql); no
# model reads now().
INTERVAL_ENV = {
    "LIFTOFF_INTERVAL_START": "{{ data_interval_start.isoformat() }}",
    "LIFTOFF_INTERVAL_END": "{{ data_interval_end.isoformat() }}",
}


def interval_env(interval: Interval) -> dict[str, str]:
    """The same environment for a dbt call outside Airflow (the benchmarks, the dbt tests)."""
    return dict(zip(INTERVAL_ENV, (interval.start.isoformat(), interval.end.isoformat()), strict=True))


# What every dbt task gets, whatever the setting. A failed model or test is not fixed by
# retrying: on-call reruns the day (docs/runbook.md). The `layer` setting's tasks tell an
# outage from a failure (below) and are retried; per-model tasks are not.
# Each command's test results go to its XCom, for the gold asset events (imported when it runs).
# A dbt task runs for one day at a time: days' bronze slices are their own, but dbt
# rebuilds a layer's views by name (and a first build creates its tables), so two days'
# builds of one model would collide. (Silver and gold go in date order anyway: the sensor.)
DBT_OPERATOR_ARGS = {
    "install_deps": False,
    "env": {**PIPELINE_DBT_ENV, **INTERVAL_ENV},
    "retries": 0,
    "callback": "liftoff.transform.test_results.push_test_results",
    "max_active_tis_per_dag": 1,
    # The day's chain first: a day's bronze is ready with its archives and checks, more tasks
    # than workers, and the scheduler queues the highest weight (with its downstream) first.
    "priority_weight": 10,
}
# What dbt reports when the warehouse went away under it (restarted, backends terminated):
# an outage, which a retry fixes; anything else (a failed test, a SQL error) is not.
OUTAGE_MARKERS = (
    "could not connect",
    "connection refused",
    "server closed the connection",
    "closed unexpectedly",
    "ssl syscall error",
    "terminating connection",
    "connection already closed",
    "the database system is starting up",
    "the database system is shutting down",
    "timeout expired",
)


class _OutageRetried:
    """A dbt call that failed for an outage raises (retried); one that failed on its own
    merits (a test, a model's SQL) fails the task at once, naming the nodes."""

    def handle_exception_dbt_runner(self, result) -> None:
        try:
            super().handle_exception_dbt_runner(result)
        except CosmosDbtRunError as exc:
            if any(marker in str(exc).lower() for marker in OUTAGE_MARKERS):
                raise
            raise AirflowFailException(str(exc)) from exc


class _FrozenHeap:
    """Cosmos runs ``gc.collect()`` after every in-process dbt call (to release dbt's
    semaphores); over the heap of Airflow, dbt and the parsed project that took 0.6 s a call.
    Freezing what the process holds before dbt runs leaves the collection only dbt's new
    objects (``gc.freeze``, as Airflow's own forked processes do)."""

    def execute(self, context, **kwargs):
        gc.freeze()
        return super().execute(context, **kwargs)


class _FlagSourcesNamedCheaply:
    """dbt names its adapter's behaviour flags without building the whole call stack
    (``liftoff.transform.dbt_flag_source``)."""

    def execute(self, context, **kwargs):
        from liftoff.transform import dbt_flag_source

        dbt_flag_source.apply()
        return super().execute(context, **kwargs)


class LayerBuildOperator(_FlagSourcesNamedCheaply, _FrozenHeap, _OutageRetried, DbtBuildLocalOperator):
    """`dbt build` of a layer (the `layer` setting)."""


def project_config() -> ProjectConfig:
    return ProjectConfig(
        dbt_project_path=DBT_PROJECT_DIR,
        manifest_path=MANIFEST_PATH,
        install_dbt_deps=False,
    )


def profile_config(conn_id: str = "warehouse") -> ProfileConfig:
    """dbt's profile, built from the ``warehouse`` Airflow connection."""
    return ProfileConfig(
        profile_name="liftoff",
        target_name="airflow",
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=conn_id, profile_args={"schema": "public", "threads": get_settings().dbt_threads}
        ),
    )


def execution_config() -> ExecutionConfig:
    # dbt runs in-process through dbtRunner: no interpreter start per task.
    watcher = get_settings().dbt_execution == "watcher"
    return ExecutionConfig(
        execution_mode=ExecutionMode.WATCHER if watcher else ExecutionMode.LOCAL,
        invocation_mode=InvocationMode.DBT_RUNNER,
        dbt_executable_path=Path(sys.executable).with_name("dbt"),  # dbt shares Airflow's virtualenv
        # A model's tests run with it, and a test that also reads another model (a
        # relationship to a dimension) runs with the later of the two: dbt's "buildable".
        test_indirect_selection=TEST_SELECTION,
    )


def render_config(layer: str, sources: dict[str, SourceConfig]) -> RenderConfig:
    """The layer's models, each followed by its tests; no task for the landing tables (a
    source's freshness is checked before silver: ``liftoff.validate.freshness``).
    LoadMode.DBT_MANIFEST: parsing the DAG reads manifest.json, never runs `dbt ls`.
    """
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=[f"path:models/{layer}"],
        test_behavior=TestBehavior.BUILD
        if get_settings().dbt_execution == "build"
        else TestBehavior.AFTER_EACH,
        source_rendering_behavior=SourceRenderingBehavior.NONE,
    )


def dbt_layer(layer: str, sources: dict[str, SourceConfig], conn_id: str = "warehouse") -> TaskGroup:
    """The task group of one layer under the configured execution setting."""
    if layer not in LAYERS:
        raise ValueError(f"unknown dbt layer {layer!r}; layers: {', '.join(LAYERS)}")
    execution = get_settings().dbt_execution
    if execution == "layer":
        return layer_build(layer, sources, conn_id)
    group = DbtTaskGroup(
        group_id=layer,
        project_config=project_config(),
        profile_config=profile_config(conn_id),
        execution_config=execution_config(),
        render_config=render_config(layer, sources),
        operator_args=DBT_OPERATOR_ARGS,
    )
    if execution == "watcher":
        _producer_first(group)
    return group


def _producer_first(group: DbtTaskGroup) -> None:
    """Watcher mode: the layer's sensors start once its one `dbt build` (the producer) is done.

    Then a sensor finds its node's outcome at its first look and never waits on a producer
    that has not started. `airflow dags test` (what ``liftoff run`` uses) runs one task at a
    time and needs this; under a scheduler the layer takes as long either way, since the
    build is the work.
    """
    producer = group.children[f"{group.group_id}.dbt_producer_watcher"]
    producer.indirect_selection = TEST_SELECTION.value
    for root in group.get_roots():
        if root is not producer:
            producer >> root
            # A failed build still lets each sensor report its own node (the failed model
            # by name, the others done); a build that never ran skips them.
            for task in root.roots if isinstance(root, TaskGroup) else [root]:
                task.trigger_rule = TriggerRule.ONE_DONE


def layer_build(layer: str, sources: dict[str, SourceConfig], conn_id: str = "warehouse") -> TaskGroup:
    """The `layer` setting: one in-process `dbt build` of the whole layer.

    dbt builds each model then its tests, and a failed test skips what depends on the model;
    the task fails naming the failed nodes. The layers share one partial-parse cache, so only
    the first dbt call of a run parses the project.
    """
    with TaskGroup(group_id=layer) as group:
        dbt_args = {
            **DBT_OPERATOR_ARGS,
            "retries": DEFAULT_ARGS["retries"],  # an outage is retried; a failure fails at once
            "project_dir": str(DBT_PROJECT_DIR),
            "profile_config": profile_config(conn_id),
            "invocation_mode": InvocationMode.DBT_RUNNER,
            # dbt's artifacts (written) feed the OpenLineage events; no Airflow asset per model
            "emit_datasets": False,
            "cache_dir": Path(cosmos_settings.cache_dir) / f"{group.dag_id}__dbt_layers",
        }
        LayerBuildOperator(
            task_id="build",
            select=[f"path:models/{layer}"],
            indirect_selection=TEST_SELECTION.value,
            **dbt_args,
        )
    return group
