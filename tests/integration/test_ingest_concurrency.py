"""Two syncs of one interval never delete or double landed rows.

Each run stages in a schema of its own, a promote holds its landing table's advisory lock
(the one the Kafka landing takes), and a staging table that is missing is an error, not an
empty window.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from psycopg import sql

from liftoff.batch import Batch, Interval
from liftoff.config import Settings, load_sources
from liftoff.ingest.local import IngestError, promote, staging_schema, sync_interval
from liftoff.warehouse.location import Warehouse
from sales_api.server import BackgroundApi

DAY = date(2026, 11, 20)
INTERVAL = Interval.for_day(DAY)
SALES = [
    {
        "sale_id": f"S{n}",
        "seller_email": "ana@liftoff.example",
        "product": "Starter Plan",
        "quantity": 1,
        "amount": "49.00",
        "sold_at": "2026-11-20T09:00:00Z",
        "updated_at": "2026-11-20T10:00:00Z",
    }
    for n in range(5)
]


def crm_api_meeting_two_runs() -> FastAPI:
    """The CRM's sales, each request held until a second one arrives (or 10 s pass): the two
    runs' reads overlap for sure."""
    app = FastAPI()
    meeting = threading.Barrier(2, timeout=10)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/sales")
    def sales() -> dict:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        return {"data": SALES, "total": len(SALES)}

    return app


def test_two_runs_of_one_interval_at_once_lose_no_rows(
    bootstrapped: Warehouse, liftoff_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `--partial-day` runs, or a retry beside a stalled attempt: both land, once."""
    crm = load_sources()["crm"]
    crm = crm.model_copy(update={"streams": {"sales": crm.streams["sales"]}})
    with BackgroundApi(app=crm_api_meeting_two_runs()) as api:
        monkeypatch.setenv("LIFTOFF_API_URL", api.url)
        with ThreadPoolExecutor(2) as pool:
            runs = [
                pool.submit(sync_interval, "crm", crm, INTERVAL, bootstrapped, Settings(home=liftoff_home))
                for _ in range(2)
            ]
            landed = [run.result(timeout=300) for run in runs]
    assert landed == [{"sales": len(SALES)}] * 2
    with bootstrapped.connect() as conn:
        ids = [r[0] for r in conn.execute("select sale_id from raw_crm.sales order by 1")]
        assert ids == sorted(s["sale_id"] for s in SALES), "every row, once"
        left = conn.execute("select count(*) from pg_namespace where nspname like 'raw_crm\\_\\_%'")
        assert left.fetchone()[0] == 0, "each run dropped its own staging schema"


def test_each_run_stages_in_a_schema_of_its_own() -> None:
    first, second = staging_schema("crm", INTERVAL), staging_schema("crm", INTERVAL)
    assert first != second and first.startswith("raw_crm__202611200000__")
    long = staging_schema("a" * 60, INTERVAL, run="0123abcd")
    assert len(long) <= 63 and long.endswith("__0123abcd"), "PostgreSQL's cut never takes the run's part"


def stage(conn, schema: str, stream: str, rows: list[dict]) -> None:
    """A staging table as the runner leaves it: the rows as text, Airbyte's columns."""
    conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
    columns = [*rows[0], "_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta"]
    conn.execute(
        sql.SQL("create table {} ({})").format(
            sql.Identifier(schema, stream),
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns),
        )
    )
    with conn.cursor().copy(sql.SQL("copy {} from stdin").format(sql.Identifier(schema, stream))) as copy:
        for row in rows:
            copy.write_row([*row.values(), str(uuid.uuid4()), datetime.now(UTC).isoformat(), "{}"])
    conn.commit()


def sellers(version: str) -> list[dict]:
    return [
        {"seller_id": f"V0{n}", "name": f"Seller {n}", "email": f"v{n}@x.io", "region": version}
        for n in range(8)
    ]


def test_a_missing_staging_table_is_an_error_and_deletes_nothing(bootstrapped: Warehouse) -> None:
    crm = load_sources()["crm"]
    batch = Batch.of("crm", "sales", crm.streams["sales"], INTERVAL)
    with bootstrapped.connect() as conn:
        stage(conn, "raw_crm__first", "sales", [{k: str(v) for k, v in sale.items()} for sale in SALES])
        with conn.transaction():
            assert promote(conn, batch, "raw_crm__first") == len(SALES)
        conn.execute("create schema raw_crm__emptied")  # the schema is there, its table is not
        conn.commit()
        for staging in ("raw_crm__emptied", "raw_crm__dropped"):
            gone = rf"staging table {staging}\.sales is gone"
            with pytest.raises(IngestError, match=gone) as info, conn.transaction():
                promote(conn, batch, staging)
            assert "\n" not in str(info.value)
            assert batch.count(conn) == len(SALES), "the landed slice is still there"


def test_two_full_refresh_promotes_at_once_keep_exactly_one_snapshot(bootstrapped: Warehouse) -> None:
    """A backfill's two days promote reference snapshots side by side (delete all, insert)."""
    crm = load_sources()["crm"]
    batches = [
        Batch.of("crm", "sellers", crm.streams["sellers"], Interval.for_day(date(2026, 11, d)))
        for d in (20, 21)
    ]
    with bootstrapped.connect() as conn:
        for name, version in (("raw_crm__old", "old"), ("raw_crm__day1", "day1"), ("raw_crm__day2", "day2")):
            stage(conn, name, "sellers", sellers(version))
        with conn.transaction():
            promote(conn, batches[0], "raw_crm__old")  # yesterday's snapshot, committed

    def second_promote() -> None:
        with bootstrapped.connect() as other, other.transaction():
            promote(other, batches[1], "raw_crm__day2")

    with (
        bootstrapped.connect() as first,
        bootstrapped.connect(autocommit=True) as watch,
        ThreadPoolExecutor(1) as pool,
    ):
        with first.transaction():
            promote(first, batches[0], "raw_crm__day1")
            second = pool.submit(second_promote)
            deadline = time.monotonic() + 60  # a busy machine: the second may take a while to wait
            while not second.done() and time.monotonic() < deadline:  # until it waits on us, or is done
                waiting = watch.execute(
                    "select count(*) from pg_stat_activity where datname = current_database()"
                    " and wait_event_type = 'Lock'"
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            assert time.monotonic() < deadline
        second.result(timeout=30)
    with bootstrapped.connect() as conn:
        regions = conn.execute("select region, count(*) from raw_crm.sellers group by 1").fetchall()
    assert regions == [("day2", 8)], "one snapshot: the later promote replaced the earlier one"
