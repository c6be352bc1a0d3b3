"""`make bench`: run every benchmark, print one line each (with its ratio to its baseline)."""

from __future__ import annotations

import argparse
import os

from benchmarks import (
    bench_archive,
    bench_backfill,
    bench_connector_overhead,
    bench_dag_parse,
    bench_daily_run,
    bench_dbt_cosmos,
    bench_history,
    bench_kafka_landing,
    bench_landing,
    bench_stream_freshness,
    bench_validation,
)
from liftoff.cli.common import stop_on_signals
from liftoff.config import disable_telemetry
from sales_api.shop import DEMO_SHOP_TOKEN

BENCHMARKS = {
    "dag_parse": bench_dag_parse.run,
    "daily_run": bench_daily_run.run,
    "backfill_30d": bench_backfill.run,
    "backfill_365d": bench_backfill.run_year,
    "dbt_cosmos": bench_dbt_cosmos.run,
    "history_365d": bench_history.run,
    "validation_1m": bench_validation.run,
    "archive_1m": bench_archive.run,
    "landing_1m": bench_landing.run,
    "connector_overhead": bench_connector_overhead.run,
    "kafka_landing_1m": bench_kafka_landing.run,
    "stream_freshness": bench_stream_freshness.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)"
    )
    args = parser.parse_args()
    disable_telemetry()
    stop_on_signals()  # a killed benchmark stops its deployment and servers, as Ctrl-C does
    os.environ.setdefault("LIFTOFF_SHOP_TOKEN", DEMO_SHOP_TOKEN)  # the benchmarks read the demo API
    for name in args.names or BENCHMARKS:
        result = BENCHMARKS[name]()
        result.save()
        print(result.line(), flush=True)


if __name__ == "__main__":
    main()
