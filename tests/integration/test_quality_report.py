"""The data quality page's numbers, from audit rows written as the gate and the syncs write
them, against a real PostgreSQL: each stream's window is its own 30 days, the ratios and
the top errors are counted by rows, and the page escapes what upstream sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from liftoff.config import FreshnessConfig, load_sources
from liftoff.quality.page import render
from liftoff.quality.report import stream_quality
from liftoff.warehouse.location import Warehouse

NEWEST = datetime(2026, 11, 20, tzinfo=UTC)


def batch(
    conn,
    source: str,
    stream: str,
    day: datetime,
    landed: int,
    rejected: int,
    status: str,
    newest_cursor: datetime | None = None,
) -> str:
    batch_id = f"{source}.{stream}.{day:%Y%m%dT%H%M}"
    conn.execute(
        "insert into audit.batches (batch_id, source, stream, interval_start, interval_end, landed,"
        " accepted, rejected, contract, contract_version, status, newest_cursor)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, 'Sale', '1', %s, %s)",
        (batch_id, source, stream, day, day + timedelta(days=1), landed,
         0 if status == "landed" else landed - rejected, 0 if status == "landed" else rejected, status,
         newest_cursor),
    )  # fmt: skip
    return batch_id


def quarantine(conn, batch_id: str, raw_id: str, *errors: tuple[str, str]) -> None:
    source, stream, _ = batch_id.split(".")
    conn.execute(
        "insert into audit.quarantine (batch_id, source, stream, airbyte_raw_id, row_data, errors,"
        " contract, contract_version) values (%s, %s, %s, %s, '{}', %s, 'Sale', '1')",
        (batch_id, source, stream, raw_id,
         json.dumps([{"field": f, "message": m, "type": "value_error"} for f, m in errors])),
    )  # fmt: skip


def test_each_streams_last_30_days_with_ratios_top_errors_and_schema_changes(bootstrapped: Warehouse) -> None:
    with bootstrapped.connect() as conn:
        old = batch(conn, "crm", "sales", NEWEST - timedelta(days=45), 1000, 500, "archived")  # outside
        quarantine(conn, old, "old-1", ("amount", "an old error, outside the window"))
        # the newest cursor accepted: 28 hours before the end of the newest gated day (crm: warn)
        first = batch(
            conn, "crm", "sales", NEWEST - timedelta(days=2), 100, 4, "archived", NEWEST - timedelta(hours=28)
        )
        for n in range(3):
            quarantine(conn, first, f"a{n}", ("amount", "Input should be greater than 0"))
        quarantine(
            conn,
            first,
            "b",
            ("email", "value is not a valid email"),
            ("amount", "Input should be greater than 0"),
        )
        second = batch(conn, "crm", "sales", NEWEST - timedelta(days=1), 50, 1, "validated")
        quarantine(conn, second, "c", ("sold_at", "<script>alert(1)</script> is not a date"))
        batch(conn, "crm", "sales", NEWEST, 10, 0, "landed", NEWEST)  # not gated yet: its cursor not counted
        batch(
            conn, "shop", "orders", NEWEST - timedelta(days=400), 7, 0, "archived"
        )  # a year back: its own window; no cursor accepted
        batch(conn, "crm", "sellers", NEWEST, 5, 0, "validated")  # a snapshot: no cursor, not checked
        batch(conn, "legacy", "sales", NEWEST, 5, 0, "validated", NEWEST)  # no longer in sources.yaml
        conn.execute(
            "insert into audit.schema_changes (source, stream, field, change, new_type, interval_start)"
            " values ('crm', 'sales', 'discount', 'added', 'number', %s),"
            " ('crm', 'sales', 'legacy', 'removed', null, %s)",
            (NEWEST - timedelta(days=1), NEWEST - timedelta(days=60)),
        )
        conn.commit()
        streams = stream_quality(conn)

    assert [(s.source, s.stream) for s in streams] == [
        ("crm", "sales"),
        ("crm", "sellers"),
        ("legacy", "sales"),
        ("shop", "orders"),
    ]
    crm, sellers, legacy, shop = streams
    assert [d.day.isoformat() for d in crm.days] == ["2026-11-20", "2026-11-19", "2026-11-18"]
    assert (crm.batches, crm.landed, crm.accepted, crm.rejected, crm.waiting) == (3, 160, 145, 5, 1)
    assert crm.reject_ratio == pytest.approx(5 / 150)  # of the rows judged: the landed day's are not
    assert [(e.field, e.message, e.rows) for e in crm.top_errors] == [
        ("amount", "Input should be greater than 0", 4),
        ("email", "value is not a valid email", 1),
        ("sold_at", "<script>alert(1)</script> is not a date", 1),
    ]
    assert crm.latest_rejecting_batch == second
    # the validated day and its end; the landed one is not accepted yet
    assert (crm.newest_day.isoformat(), crm.newest_accepted) == ("2026-11-19", NEWEST)
    assert crm.hours_since_newest == pytest.approx(
        (datetime.now(UTC) - NEWEST).total_seconds() / 3600, abs=0.1
    )
    assert crm.schema_changes == 1  # the one 60 days back is outside the window
    assert (shop.batches, shop.accepted, shop.top_errors, shop.schema_changes) == (1, 7, [], 0)
    # freshness as of the newest gated day (2026-11-19), against sources.yaml's thresholds
    assert (crm.newest_cursor, crm.cursor_hours) == (NEWEST - timedelta(hours=28), 28.0)
    assert (crm.freshness, crm.warn_after, crm.error_after) == ("warn", 26, 168)
    assert (shop.newest_cursor, shop.cursor_hours, shop.freshness) == (None, None, "no data")
    assert (sellers.freshness, sellers.warn_after, legacy.freshness) == ("not checked", None, "not checked")
    stricter = load_sources()
    stricter["crm"] = stricter["crm"].model_copy(
        update={"freshness": FreshnessConfig(warn_after=12, error_after=24)}
    )
    with bootstrapped.connect() as conn:
        assert stream_quality(conn, sources=stricter)[0].freshness == "error"

    page = render(streams, datetime.now(UTC))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"liftoff quarantine list --batch {second}" in page
    assert "3.33%" in page  # crm's reject ratio over its window
    assert "an old error" not in page
    assert (
        "2026-11-18 20:00 UTC" in page and "28.0" in page
    )  # crm's newest cursor, hours before its day's end
    assert "warn &gt; 26 h, error &gt; 168 h" in page and "not checked" in page and "no data" in page


def test_no_batch_yet_says_so(bootstrapped: Warehouse) -> None:
    with bootstrapped.connect() as conn:
        assert stream_quality(conn) == []
    assert "No batch yet" in render([], datetime.now(UTC))
