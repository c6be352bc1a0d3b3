"""The connector runner warmed up where the executor's workers fork from (``TASK_PRELOAD``
imports this): it starts ``liftoff.ingest.warm_connector``'s server, and the tasks' syncs
fork from it.

Then it forgets the modules of ours it imported to do so (the settings, the client), from
``sys.modules`` and from their packages, as if it never had: each task imports our code as it
is now, as with every other module of ours."""

import sys

_before = set(sys.modules)
from liftoff.ingest.warm_connector import start  # noqa: E402

start()
for _name in set(sys.modules) - _before - {__name__, "liftoff", "liftoff.ingest"}:
    if _name.startswith("liftoff."):
        _package, _, _leaf = _name.rpartition(".")
        if getattr(sys.modules.get(_package), _leaf, None) is sys.modules[_name]:
            delattr(sys.modules[_package], _leaf)  # or `from liftoff.ingest import x` finds it
        del sys.modules[_name]
