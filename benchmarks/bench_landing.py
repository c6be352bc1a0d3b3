"""Local landing throughput: 1,000,000 sales through the connector vs what an HTTP JSON API allows.

Subject: `sync_interval` (the declarative manifest run by the Airbyte CDK in its own
virtualenv, records COPY-ed into staging, then promoted), 1,000 rows a page, over a window
of days whose rows add up to the total, into an empty landing table. Baseline in the same
run: the limit for any connector of this API that lands what the runner lands, a process of
its own (``python -m benchmarks.bench_landing floor``) that fetches the very same pages with
httpx and writes the same layout the same way: every declared column (``_record``, the
whole record as JSON, included) and Airbyte's columns (``_airbyte_raw_id``,
``_airbyte_extracted_at``, ``_airbyte_meta``; the types from the manifest's schema and
``landing_layout``), COPY-ed into a staging schema of its own and committed, then promoted
to ``raw_crm.sales`` in one transaction (the table made ``like`` the staged one, the rows
inserted from it), the staging schema dropped. What the floor leaves out is the
connector's own work (the CDK's pagination, transformations, cursor, record checks) and the
platform's bookkeeping around a promote (the audit rows and counts). Each sample, on either
side, lands into a fresh database (bootstrapped, a checkpoint first): no sample deletes
another's rows. Three rounds, which goes first alternating. Also measured once: PostgreSQL
COPY of the landed rows from a CSV file into a table of the same layout (the floor for
loading them), and the connector's reading alone (the CDK reads and counts, writing
nothing; ``read_only=False`` leaves it out).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from benchmarks.harness import Result, alternate, pg_server, scratch_database
from liftoff.batch import Batch, Interval
from liftoff.config import TELEMETRY_OFF, Settings, load_sources
from liftoff.ingest.cdk_runner import column_name, column_type, new_id_prefix
from liftoff.ingest.landing_layout import AIRBYTE_COLUMNS, CLEAN_META
from liftoff.ingest.local import connector_config, sync_interval
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from sales_api.app import SalesApiSettings
from sales_api.server import BackgroundApi

ROWS_PER_DAY = 20_000
FIRST_DAY = date(2026, 1, 1)
PAGE_SIZE = 1000
REPEAT = 3


def landing_layout(source, stream: str = "sales") -> list[dict]:
    """The columns the runner stages and promotes for ``stream``: each property of the
    manifest's schema (the runner's names and types), then Airbyte's columns."""
    manifest = yaml.safe_load(source.manifest_path.read_text())
    (declared,) = [s for s in manifest["streams"] if s["name"] == stream]
    properties = declared["schema_loader"]["schema"]["properties"]
    columns = [
        {"column": column_name(name), "type": column_type(spec), "field": name}
        for name, spec in properties.items()
    ]
    return columns + [
        {"column": name, "type": column.type, "field": None} for name, column in AIRBYTE_COLUMNS.items()
    ]


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


def floor(api_url: str, days: int, target: Warehouse, layout: list[dict]) -> dict:
    """The baseline, in a process of its own: what :func:`_floor_main` reports."""
    request = {"api_url": api_url, "first": str(FIRST_DAY), "days": days, "page_size": PAGE_SIZE}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_landing", "floor"],
        input=json.dumps({**request, "layout": layout}),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BENCH_WAREHOUSE_URL": target.url},  # not on the command line
    )
    if done.returncode != 0:
        raise RuntimeError(f"the floor failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(target: Warehouse) -> None:
    """A sample's own database, bootstrapped (its landing table absent), a checkpoint taken."""
    with target.connect() as conn:
        bootstrap(conn)
    with target.connect(autocommit=True) as conn:
        conn.execute("checkpoint")


def run(rows: int = 1_000_000, repeat: int = REPEAT, read_only: bool = True) -> Result:
    days = max(1, rows // ROWS_PER_DAY)
    window = Interval(
        Interval.for_day(FIRST_DAY).start, Interval.for_day(FIRST_DAY + timedelta(days=days)).start
    )
    source = load_sources()["crm"]
    sales_only = source.model_copy(
        update={
            "streams": {"sales": source.streams["sales"]},
            "config": source.config.model_copy(update={"page_size": PAGE_SIZE}),
        }
    )
    layout = landing_layout(sales_only)
    (batch,) = Batch.all_of("crm", sales_only, window)
    with (
        tempfile.TemporaryDirectory() as tmp,
        pg_server(Path(tmp)) as server,
        BackgroundApi(SalesApiSettings(rows_per_day=ROWS_PER_DAY)) as api,
    ):
        os.environ["LIFTOFF_API_URL"] = api.url  # the source's base_url_env
        landed, floors, checks = [], [], {}

        def subject() -> float:
            with scratch_database(server) as target:
                prepare(target)
                started = time.perf_counter()
                landed.append(
                    sync_interval(
                        "crm",
                        sales_only,
                        window,
                        target,
                        Settings(home=Path(tmp) / "home"),
                        timeout_seconds=3600,
                    )["sales"]
                )
                seconds = time.perf_counter() - started
                if not checks:
                    checks.update(inspect(target, batch, Path(tmp)))
                return seconds

        def baseline() -> float:
            with scratch_database(server) as target:
                prepare(target)
                started = time.perf_counter()
                floors.append(floor(api.url, days, target, layout))
                seconds = time.perf_counter() - started
                floors[-1]["layout"] = same_layout(target)
                return seconds

        connector, limit = alternate(subject, baseline, repeat)
        if read_only:
            started = time.perf_counter()
            read = read_records(sales_only, connector_config(sales_only, window))
            reading = time.perf_counter() - started
    sync_s = statistics.median(connector)
    floor_s = statistics.median(limit)
    notes = {
        "rows": landed[0],
        "days": days,
        "landed": landed,
        "floor_promoted": [f["promoted"] for f in floors],
        "same_layout": all(f["layout"] == checks["layout"] for f in floors),
        "sync_rows_per_s": round(landed[0] / sync_s),
        "floor_rows_per_s": round(floors[0]["promoted"] / floor_s),
        "floor_fetch_copy_s": round(statistics.median(f["fetch_copy_s"] for f in floors), 1),
        "floor_promote_s": round(statistics.median(f["promote_s"] for f in floors), 1),
        "subject_count_scan_s": checks["count_scan_s"],
        "copy_csv_s": checks["copy_csv_s"],
        "sync_vs_copy_csv": round(sync_s / checks["copy_csv_s"], 1),
    }
    if read_only:
        notes.update(
            {
                "read_only_s": round(reading, 1),
                "read_only_rows": read,
                "writer_share_of_sync": round(max(0.0, sync_s - reading) / sync_s, 2),
            }
        )
    return Result("landing_1m", "cdk_sync", "httpx_fetch_copy_promote", connector, limit, notes)


def same_layout(target: Warehouse) -> list[tuple[str, str]]:
    """``raw_crm.sales``'s columns and types, in order (to check both sides land the same)."""
    with target.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                "select attname, format_type(atttypid, atttypmod) from pg_attribute"
                " where attrelid = 'raw_crm.sales'::regclass and attnum > 0 and not attisdropped"
                " order by attnum"
            ).fetchall()
        ]


def inspect(target: Warehouse, batch: Batch, tmp: Path) -> dict:
    """Once, after the subject's first sample (untimed): its layout; what the count of the
    batch that closes its promote costs (a scan with the cursor per row, which the floor does
    not do); COPY of the landed rows from a CSV file into a table of the same layout."""
    layout = same_layout(target)
    csv_path = tmp / "sales.csv"
    with target.connect() as conn:
        started = time.perf_counter()
        batch.count(conn)
        count_scan = time.perf_counter() - started
        with (
            csv_path.open("wb") as out,
            conn.cursor().copy("copy raw_crm.sales to stdout (format csv)") as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        conn.execute("create schema bench")
        conn.execute("create table bench.copy_target (like raw_crm.sales)")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor().copy("copy bench.copy_target from stdin (format csv)") as copy,
            csv_path.open("rb") as source_file,
        ):
            while block := source_file.read(1 << 20):
                copy.write(block)
        conn.commit()
        copy_csv = time.perf_counter() - started
    csv_path.unlink()
    return {"layout": layout, "count_scan_s": round(count_scan, 2), "copy_csv_s": round(copy_csv, 2)}


def _text(value) -> str | None:
    """A value as COPY text for a declared column, as the runner writes it (JSON for all but strings)."""
    return value if value is None or isinstance(value, str) else json.dumps(value)


def _floor_main() -> None:
    """The floor's process: the request (api_url, first, days, page_size, layout) on stdin,
    the warehouse in ``BENCH_WAREHOUSE_URL``; prints one JSON line."""
    import httpx
    import psycopg
    from psycopg import sql

    request = json.loads(sys.stdin.read())
    layout, page_size = request["layout"], int(request["page_size"])
    declared = [(c["field"], c["type"] == "json") for c in layout if c["field"] is not None]
    schema = f"raw_crm__floor__{new_id_prefix()[:8]}"  # its own staging schema, as a run's
    staging, staged = sql.Identifier(schema), sql.Identifier(schema, "sales")
    landing = sql.Identifier("raw_crm", "sales")
    columns = sql.SQL(", ").join(sql.Identifier(c["column"]) for c in layout)
    prefix, count = new_id_prefix(), 0
    started = time.perf_counter()
    with (
        httpx.Client(base_url=request["api_url"]) as client,
        psycopg.connect(os.environ["BENCH_WAREHOUSE_URL"]) as conn,
    ):
        conn.execute(sql.SQL("create schema {}").format(staging))
        conn.execute(
            sql.SQL("create table {} ({})").format(
                staged,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c["column"]), sql.SQL(c["type"])) for c in layout
                ),
            )
        )
        with conn.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(staged, columns)) as copy:
            for n in range(int(request["days"])):
                day = date.fromisoformat(request["first"]) + timedelta(days=n)
                window = {"updated_since": f"{day}T00:00:00Z", "updated_until": f"{day}T23:59:59Z"}
                page = 1
                while True:
                    params = {**window, "page": page, "page_size": page_size}
                    data = client.get("/sales", params=params).raise_for_status().json()["data"]
                    extracted = (
                        datetime.now(UTC).replace(tzinfo=None).isoformat()
                    )  # a page's records share it
                    for row in data:
                        values = [
                            json.dumps(row) if field == "_record" else _text(row.get(field))
                            for field, _ in declared
                        ]
                        n_ = f"{prefix}{count:012x}"
                        raw_id = f"{n_[:8]}-{n_[8:12]}-{n_[12:16]}-{n_[16:20]}-{n_[20:]}"
                        copy.write_row((*values, raw_id, extracted, CLEAN_META))
                        count += 1
                    if len(data) < page_size:
                        break
                    page += 1
        conn.commit()
        fetch_copy = time.perf_counter() - started
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('raw_crm.sales'))")
            conn.execute(sql.SQL("create table if not exists {} (like {})").format(landing, staged))
            promoted = conn.execute(
                sql.SQL("insert into {} ({}) select {} from {}").format(landing, columns, columns, staged)
            ).rowcount
        conn.execute(sql.SQL("drop schema {} cascade").format(staging))
        conn.commit()
        promote = time.perf_counter() - started
    print(
        json.dumps({"fetched": count, "promoted": promoted, "fetch_copy_s": fetch_copy, "promote_s": promote})
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=["floor"])
    parser.parse_args()
    _floor_main()
