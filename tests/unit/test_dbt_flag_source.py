"""dbt's behaviour flags get the same source name from ``caller_module`` as from dbt-common's
own ``inspect.stack()``, and each layer's dbt task uses it."""

from __future__ import annotations

import inspect

import pytest
from dbt_common.behavior_flags import Behavior, BehaviorFlagRendered

from liftoff.transform import dbt_flag_source
from liftoff.transform.task_groups import LayerBuildOperator

FLAGS = [{"name": "some_flag", "default": False, "description": "A flag of an adapter."}]


def flag_source(reader, monkeypatch) -> str:
    monkeypatch.setattr(BehaviorFlagRendered, "_default_source", reader)
    return Behavior(FLAGS, {}).some_flag._behavior_change_event.flag_source


def nested(reader, monkeypatch, depth: int) -> str:
    """The same, a few frames further down this module's stack."""
    return flag_source(reader, monkeypatch) if depth == 0 else nested(reader, monkeypatch, depth - 1)


@pytest.mark.parametrize("depth", [0, 3])
def test_same_source_as_dbt_common(monkeypatch, depth):
    theirs = nested(dbt_flag_source.STACK_READER, monkeypatch, depth)
    ours = nested(staticmethod(dbt_flag_source.caller_module), monkeypatch, depth)
    assert ours == theirs == __name__


def test_dbt_common_still_reads_the_whole_stack():
    """When this fails, dbt-common names the source cheaply itself: drop dbt_flag_source."""
    assert "inspect.stack()" in inspect.getsource(dbt_flag_source.STACK_READER.__func__)


def test_a_layer_task_applies_it_before_dbt_runs(monkeypatch):
    monkeypatch.setattr(BehaviorFlagRendered, "_default_source", dbt_flag_source.STACK_READER)
    seen = []

    def dbt_build(self, context, **kwargs):
        seen.append(BehaviorFlagRendered.__dict__["_default_source"].__func__)

    monkeypatch.setattr("cosmos.operators.local.DbtBuildLocalOperator.execute", dbt_build)
    monkeypatch.setattr("gc.freeze", lambda: None)  # the layer task's freeze, not in pytest's process
    task = LayerBuildOperator(task_id="build", project_dir="/nonexistent", profile_config=None)
    task.execute({})
    assert seen == [dbt_flag_source.caller_module]
