"""Read a declarative connector's streams with PyAirbyte and count the records, writing nothing.

Runs inside PyAirbyte's virtualenv, like plugins/liftoff/ingest/pyairbyte_runner.py, to tell
the connector's cost from the cache writer's (benchmarks/bench_landing.py). Reads one JSON
request on stdin ({"name", "manifest", "config", "streams"}); prints {"records": N}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")


def main() -> None:
    import airbyte as ab

    request = json.loads(sys.stdin.read())
    source = ab.get_source(
        request["name"], config=request["config"], source_manifest=Path(request["manifest"])
    )
    records = sum(sum(1 for _ in source.get_records(stream)) for stream in request["streams"])
    print(json.dumps({"records": records}))


if __name__ == "__main__":
    main()
