"""dbt's behaviour flags named without ``inspect.stack()`` (each layer's `dbt build`, the
`layer` setting, applies this first).

When dbt registers the warehouse's adapter, dbt-common names the module behind each of the
adapter's behaviour flags (``BehaviorFlagRendered._default_source``) by building
``inspect.stack()``: the whole call stack, each frame with the lines of its source file, once
a flag. It reads the frames only up to the first one outside ``behavior_flags`` (the fifth).
Under a task process's stack (Airflow's task runner, Cosmos, click) that was 0.09 s of each
dbt task, about 16% of what its dbt call spends in Python (a py-spy profile of an 8-day
backfill, docs/benchmarks.md).

``caller_module`` returns the same name, reading only the frames it needs. Drop this module
once dbt-common stops building the stack (tests/unit/test_dbt_flag_source.py says when).
"""

from __future__ import annotations

import inspect
import sys

from dbt_common import behavior_flags

STACK_READER = behavior_flags.BehaviorFlagRendered.__dict__["_default_source"]


def caller_module() -> str:
    """The first module up the stack that is not dbt-common's ``behavior_flags`` (as
    ``_default_source`` finds it), or ``"Unknown"``."""
    frame = sys._getframe(1)
    while frame is not None:
        if (module := inspect.getmodule(frame)) and module.__name__ != behavior_flags.__name__:
            return module.__name__
        frame = frame.f_back
    return "Unknown"


def apply() -> None:
    """Name the flags' sources with ``caller_module`` in this process (idempotent)."""
    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(caller_module)
