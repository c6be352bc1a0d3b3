"""The connector runner warmed up in each executor worker (``TASK_PRELOAD`` imports this): the
worker starts ``liftoff.ingest.warm_connector``'s server, and its tasks' syncs fork from it.

Then it forgets the modules of ours it imported to do so (the settings, the client), as if it
never had: each task imports our code as it is now, as with every other module of ours."""

import sys

_before = set(sys.modules)
from liftoff.ingest.warm_connector import start  # noqa: E402

start()
for _name in set(sys.modules) - _before - {__name__, "liftoff", "liftoff.ingest"}:
    if _name.startswith("liftoff."):
        del sys.modules[_name]
