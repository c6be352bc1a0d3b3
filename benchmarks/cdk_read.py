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

import cdk_runner  # the runner's own catalog, from beside it


def main() -> None:
    import yaml
    from airbyte_cdk.models import Type
    from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

    request = json.loads(sys.stdin.read())
    logger = logging.getLogger("airbyte")
    manifest = yaml.safe_load(Path(request["manifest"]).read_text())
    config = request["config"]
    catalog, _ = cdk_runner.catalog_of(manifest, config, request["streams"], logger)
    source = ConcurrentDeclarativeSource(catalog=catalog, config=config, source_config=manifest)
    records = sum(1 for m in source.read(logger, config, catalog, None) if m.type == Type.RECORD)
    print(json.dumps({"records": records}))


if __name__ == "__main__":
    main()
