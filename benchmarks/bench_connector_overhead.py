"""Connector runner overhead: a PyPI Airbyte connector through our runner vs its own `read`.

Subject: the runner's path of a PyPI connector source (``ConnectorRun.run``), the connector
``airbyte-source-faker==7.2.1`` (offline, generates its records; one stream, ``count``
records): ``Connector.read`` (the connector process, its messages parsed line by line)
feeding a ``StreamWriter`` per RECORD, COPY-ed into a fresh staging schema, flushed and
committed. Baseline in the same run: the same executable's ``read`` with the same config and
catalog, its stdout into /dev/null (what the connector costs alone: the ceiling for any
runner). Both start the connector process; ``check`` and ``discover``, which a sync runs
before its read, are left out of both. Goal: at least 0.8 of the baseline's records per
second. Run alone: ``python -m benchmarks.bench_connector_overhead``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from psycopg import sql

from benchmarks.harness import Result, alternate, pg_server, scratch_database, timed
from liftoff.config import Settings, disable_telemetry
from liftoff.ingest.cdk_runner import StreamWriter
from liftoff.ingest.connectors import ConnectorPackage, install
from liftoff.ingest.protocol import Connector, connector_env
from liftoff.warehouse.location import Warehouse

PACKAGE = "airbyte-source-faker==7.2.1"
COUNT = 50_000
STREAM = "users"
REPEAT = 3
GOAL = 0.8  # ours / the connector's own read, in records per second


def faker_config(count: int) -> dict:
    return {"count": count, "seed": 1, "records_per_slice": 1000, "always_updated": False, "parallelism": 1}


def read_to_devnull(exe: Path, config_path: Path, catalog_path: Path, stdout=subprocess.DEVNULL) -> None:
    """The baseline: the connector's own ``read``, nothing done with what it says."""
    subprocess.run(
        [str(exe), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        env=connector_env(),
        check=True,
    )


def record_lines(exe: Path, config: dict, catalog: dict, root: Path) -> int:
    """RECORD lines of a read (not timed): the count the config asks for is what comes out."""
    config_path, catalog_path, out = root / "check_config.json", root / "check_catalog.json", root / "out"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(catalog))
    with out.open("w") as stdout:
        read_to_devnull(exe, config_path, catalog_path, stdout=stdout)
    with out.open() as lines:
        return sum(1 for line in lines if line.startswith("{") and json.loads(line).get("type") == "RECORD")


def runner_read(
    exe: Path, config: dict, catalog: dict, stream: str, json_schema: dict, target: Warehouse
) -> int:
    """The subject, as ``ConnectorRun.run`` does it: read, a StreamWriter per RECORD, commit."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"  # fresh per repetition
    with target.connect() as conn:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
        writer = StreamWriter(conn, schema, stream, json_schema, None)
        for message in Connector(exe, "faker").read(config, catalog, None, timeout_seconds=600):
            if message["type"] == "RECORD":
                record = message["record"]
                if record.get("stream") == stream:
                    writer.add(record.get("data") or {}, int(record.get("emitted_at") or 0))
        writer.flush()
        conn.commit()
    return writer.count


def run(count: int = COUNT, stream: str = STREAM, repeat: int = REPEAT) -> Result:
    exe = install(ConnectorPackage.parse(PACKAGE), Settings().connectors_dir)
    config = faker_config(count)
    connector = Connector(exe, "faker")
    discovered = connector.discover(config)[stream]
    json_schema = discovered.get("json_schema") or {}
    catalog = {
        "streams": [{"stream": discovered, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small = record_lines(exe, faker_config(1000), catalog, root)
        if stream == "users" and small != 1000:
            raise RuntimeError(f"{PACKAGE} gave {small} RECORD lines for a count of 1000")
        config_path, catalog_path = root / "config.json", root / "catalog.json"
        config_path.write_text(json.dumps(config))
        catalog_path.write_text(json.dumps(catalog))
        landed: list[int] = []
        with pg_server(root) as server, scratch_database(server) as target:

            def ours() -> float:
                return timed(
                    lambda: landed.append(runner_read(exe, config, catalog, stream, json_schema, target))
                )

            def baseline() -> float:
                return timed(lambda: read_to_devnull(exe, config_path, catalog_path))

            subject_seconds, baseline_seconds = alternate(ours, baseline, repeat)
    if len(set(landed)) != 1 or (stream == "users" and landed[0] != count):
        raise RuntimeError(f"the runner landed {landed} records, the config asks for {count}")
    count = landed[0]  # users: the count configured; purchases: what the seed gives (same every read)
    ours_rate = count / statistics.median(subject_seconds)
    read_rate = count / statistics.median(baseline_seconds)
    throughput_ratio = ours_rate / read_rate
    notes = {
        "records": count,
        "stream": stream,
        "ours_records_per_s": round(ours_rate),
        "read_devnull_records_per_s": round(read_rate),
        "throughput_ratio": round(throughput_ratio, 2),
        "goal": GOAL,
        "meets_goal": throughput_ratio >= GOAL,
        "ours_s": [round(s, 2) for s in subject_seconds],
        "read_devnull_s": [round(s, 2) for s in baseline_seconds],
    }
    return Result(
        "connector_overhead",
        "runner_to_postgres",
        "read_to_devnull",
        subject_seconds,
        baseline_seconds,
        notes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=COUNT, help="records the connector generates")
    parser.add_argument("--stream", default=STREAM, choices=["users", "purchases"])
    parser.add_argument("--repeat", type=int, default=REPEAT, help="rounds of the two, alternating")
    args = parser.parse_args()
    disable_telemetry()
    result = run(args.count, args.stream, args.repeat)
    result.save()
    print(result.line(), flush=True)
    ours, base = result.notes["ours_records_per_s"], result.notes["read_devnull_records_per_s"]
    verdict = "meets" if result.notes["meets_goal"] else "misses"
    print(
        f"connector_overhead: ours={ours} records/s read_devnull={base} records/s"
        f" ratio={result.notes['throughput_ratio']:.2f} of the baseline ({verdict} the goal of >= {GOAL})",
        flush=True,
    )


if __name__ == "__main__":
    main()
