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


# a frame of no module (code run by exec), which both skip on their way up
_NAMESPACE: dict = {}
exec(compile("def through_exec(call):\n    return call()\n", "<string>", "exec"), _NAMESPACE)


@pytest.mark.parametrize("through_exec", [False, True])
def test_same_source_as_dbt_common(monkeypatch, through_exec):
    def source(reader):
        if through_exec:
            return _NAMESPACE["through_exec"](lambda: flag_source(reader, monkeypatch))
        return flag_source(reader, monkeypatch)

    theirs = source(dbt_flag_source.STACK_READER)
    ours = source(staticmethod(dbt_flag_source.caller_module))
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
