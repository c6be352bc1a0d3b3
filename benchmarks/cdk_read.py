"""Read a declarative connector's streams with the Airbyte CDK and count the records, writing nothing.

Runs inside the connector's virtualenv, as plugins/liftoff/ingest/cdk_runner.py does, to tell
the connector's reading from the COPY (benchmarks/bench_landing.py). Reads one JSON request
on stdin ({"name", "manifest", "config", "streams"}); prints {"records": N}.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "plugins" / "liftoff" / "ingest"))

import cdk_runner  # the runner's own reading, from beside it


def main() -> None:
    from airbyte_cdk.models import Type

    _, messages, _ = cdk_runner.read(json.loads(sys.stdin.read()), logging.getLogger("airbyte"))
    print(json.dumps({"records": sum(1 for m in messages if m.type == Type.RECORD)}))


if __name__ == "__main__":
    main()
