"""Cosmos configuration: one DbtTaskGroup per dbt layer, rendered from a precompiled manifest."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import (
    ExecutionMode,
    InvocationMode,
    LoadMode,
    SourceRenderingBehavior,
    TestBehavior,
    TestIndirectSelection,
)
from cosmos.profiles import PostgresUserPasswordProfileMapping

from liftoff.config import DBT_PROJECT_DIR, DbtExecution, Settings, SourceConfig, get_settings, landing_schema

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
LAYERS = ("bronze", "silver", "gold")
# dbt's unit tests check the models' logic on fixtures: they run in CI (tests/dbt), not in
# the daily pipeline (dbt's own advice; a unit test of an incremental model also needs the
# model to exist, which a first run does not have).
PIPELINE_DBT_ENV = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
DBT_EXECUTION_SETTINGS: tuple[str, ...] = get_args(DbtExecution)
DEFAULT_DBT_EXECUTION: str = Settings.model_fields["dbt_execution"].default

# The run's data interval reaches every dbt command as vars; no model reads now().
INTERVAL_VARS = {
    "interval_start": "{{ data_interval_start.isoformat() }}",
    "interval_end": "{{ data_interval_end.isoformat() }}",
}


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
            conn_id=conn_id, profile_args={"schema": "public"}
        ),
    )


def execution_config() -> ExecutionConfig:
    # dbt runs in-process through dbtRunner: no interpreter start per task.
    return ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL,
        invocation_mode=InvocationMode.DBT_RUNNER,
        dbt_executable_path=Path(sys.executable).with_name("dbt"),  # dbt shares Airflow's virtualenv
        # A model's test task runs the tests of that model only, not a later model's tests
        # that also reference it (those run with the later model).
        test_indirect_selection=TestIndirectSelection.CAUTIOUS,
    )


def render_config(layer: str, sources: dict[str, SourceConfig]) -> RenderConfig:
    """The layer's models, each followed by its tests.

    Bronze also renders the incremental landing tables as dbt source tasks that check
    their freshness before the models that read them.
    LoadMode.DBT_MANIFEST (default): parsing the DAG reads manifest.json, never runs `dbt ls`.
    """
    select = [f"path:models/{layer}"]
    if layer == "bronze":
        select += [
            f"source:{landing_schema(name)}.{stream}"
            for name, source in sources.items()
            for stream, config in source.streams.items()
            if config.sync == "incremental"
        ]
    return RenderConfig(
        load_method=LoadMode(get_settings().dbt_load_mode),
        select=select,
        test_behavior=TestBehavior.BUILD
        if get_settings().dbt_execution == "build"
        else TestBehavior.AFTER_EACH,
        source_rendering_behavior=SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS,
    )


def dbt_layer(layer: str, sources: dict[str, SourceConfig], conn_id: str = "warehouse") -> DbtTaskGroup:
    """The task group of one layer: a run task then a test task per model."""
    if layer not in LAYERS:
        raise ValueError(f"unknown dbt layer {layer!r}; layers: {', '.join(LAYERS)}")
    return DbtTaskGroup(
        group_id=layer,
        project_config=project_config(),
        profile_config=profile_config(conn_id),
        execution_config=execution_config(),
        render_config=render_config(layer, sources),
        operator_args={"vars": INTERVAL_VARS, "install_deps": False, "env": PIPELINE_DBT_ENV},
        # A failed model or test is not fixed by retrying: on-call reruns the day (docs/runbook.md).
        default_args={"retries": 0},
    )
