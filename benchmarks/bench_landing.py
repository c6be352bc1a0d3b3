"""Local landing throughput: 1,000,000 sales through the connector vs what an HTTP JSON API allows.

Subject: `sync_interval` (the declarative manifest run by the Airbyte CDK in its own
virtualenv, records COPY-ed into staging, then promoted), 1,000 rows a page, over a window
of days whose rows add up to the total, into an empty landing table. Baseline in the same
run: the limit for any connector of this API, the very same pages fetched with httpx and
their rows COPY-ed, no connector (``benchmarks/http_copy.py``, a process of its own). Also
measured: PostgreSQL COPY of the same rows from a CSV file (the floor for loading them), and
the connector's reading alone (the CDK reads and counts, writing nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.harness import Result, pg_server, scratch_database
from liftoff.batch import Interval
from liftoff.config import TELEMETRY_OFF, Settings, load_sources
from liftoff.ingest.local import connector_config, sync_interval
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from sales_api.app import SalesApiSettings
from sales_api.server import BackgroundApi

ROWS_PER_DAY = 20_000
FIRST_DAY = date(2026, 1, 1)
COLUMNS = "sale_id, seller_email, product, quantity, amount, sold_at, updated_at"


def read_records(source, config: dict) -> int:
    """The connector's reading alone: the CDK reads and counts, nothing written."""
    request = {
        "name": "source-liftoff-crm",
        "manifest": str(source.manifest_path),
        "config": config,
        "streams": list(source.streams),
    }
    done = subprocess.run(
        [str(Settings().airbyte_python), str(Path(__file__).with_name("cdk_read.py"))],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **TELEMETRY_OFF},
    )
    return int(json.loads(done.stdout.strip().splitlines()[-1])["records"])


def http_copy(api_url: str, days: int, page_size: int, target: Warehouse, table: str) -> int:
    """The baseline: the same pages fetched with httpx and COPY-ed, in a process of its own."""
    script = Path(__file__).with_name("http_copy.py")
    done = subprocess.run(
        [sys.executable, str(script), api_url, str(FIRST_DAY), str(days), str(page_size), table],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_WAREHOUSE_URL": target.url},  # not on the command line
    )
    return int(done.stdout.strip())


def run(rows: int = 1_000_000) -> Result:
    days = max(1, rows // ROWS_PER_DAY)
    window = Interval(
        Interval.for_day(FIRST_DAY).start, Interval.for_day(FIRST_DAY + timedelta(days=days)).start
    )
    source = load_sources()["crm"]
    sales_only = source.model_copy(
        update={
            "streams": {"sales": source.streams["sales"]},
            "config": source.config.model_copy(update={"page_size": 1000}),
        }
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        pg_server(Path(tmp)) as server,
        scratch_database(server) as target,
        BackgroundApi(SalesApiSettings(rows_per_day=ROWS_PER_DAY)) as api,
    ):
        os.environ["LIFTOFF_API_URL"] = api.url  # the source's base_url_env
        with target.connect() as conn:
            bootstrap(conn)
        with target.connect() as conn:
            columns = ", ".join(f"{c} varchar" for c in COLUMNS.split(", "))
            # schema-qualified: a warehouse session's search_path is pg_catalog, pg_temp only
            conn.execute("create schema bench")
            conn.execute(f"create table bench.http_target ({columns})")
            conn.commit()
        started = time.perf_counter()
        fetched = http_copy(api.url, days, 1000, target, "bench.http_target")
        limit = time.perf_counter() - started

        started = time.perf_counter()
        landed = sync_interval(
            "crm", sales_only, window, target, Settings(home=Path(tmp) / "home"), timeout_seconds=3600
        )["sales"]
        connector = time.perf_counter() - started

        started = time.perf_counter()
        read = read_records(sales_only, connector_config(sales_only, window))
        read_only = time.perf_counter() - started

        csv_path = Path(tmp) / "sales.csv"
        with target.connect() as conn:
            with (
                csv_path.open("wb") as out,
                conn.cursor().copy(
                    f"copy (select {COLUMNS} from raw_crm.sales) to stdout (format csv)"
                ) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            conn.execute(f"create table bench.copy_target as select {COLUMNS} from raw_crm.sales limit 0")
            conn.commit()
            started = time.perf_counter()
            with (
                conn.cursor().copy(f"copy bench.copy_target ({COLUMNS}) from stdin (format csv)") as copy,
                csv_path.open("rb") as source_file,
            ):
                while block := source_file.read(1 << 20):
                    copy.write(block)
            conn.commit()
            copy_csv = time.perf_counter() - started
            copied = conn.execute("select count(*) from bench.copy_target").fetchone()[0]
    notes = {
        "rows": landed,
        "days": days,
        "fetched": fetched,
        "copied": copied,
        "sync_rows_per_s": round(landed / connector),
        "httpx_copy_rows_per_s": round(fetched / limit),
        "read_only_s": round(read_only, 1),
        "read_only_rows": read,
        "writer_share_of_sync": round(max(0.0, connector - read_only) / connector, 2),
        "copy_csv_s": round(copy_csv, 2),
        "sync_vs_copy_csv": round(connector / copy_csv, 1),
    }
    return Result("landing_1m", "cdk_sync", "httpx_fetch_copy", [connector], [limit], notes)
