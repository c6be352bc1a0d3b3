"""A source's freshness, as its data says, on a real PostgreSQL: the gate keeps the newest
cursor of each batch's accepted rows, and a run of a day judges it against that day's end,
so a backfill of an old day sees that day's data and nothing later."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from liftoff.batch import Batch, Interval
from liftoff.config import INCLUDE_DIR, ConfigError, SourceConfig, load_sources
from liftoff.validate.freshness import StaleSource, check_freshness
from liftoff.validate.gate import newest_accepted_cursor, validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

DAY = date(2026, 11, 20)
END = datetime(2026, 11, 21, tzinfo=UTC)  # DAY's end


def crm() -> SourceConfig:
    """The CRM as sources.yaml sets it: 26 hours to a warning, 168 to an error."""
    source = load_sources()["crm"]
    assert (source.freshness.warn_after, source.freshness.error_after) == (26, 168)
    return source


def at(day: date, hours: float) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


def gated(conn, day: date, newest: datetime | None, status: str = "archived", stream: str = "sales") -> None:
    """The audit row the gate leaves for ``crm.<stream>`` of ``day``."""
    interval = Interval.for_day(day)
    conn.execute(
        "insert into audit.batches (batch_id, source, stream, interval_start, interval_end, landed, accepted,"
        " rejected, contract, contract_version, status, newest_cursor)"
        " values (%s, 'crm', %s, %s, %s, 1, 1, 0, 'Sale', '1', %s, %s)",
        (f"crm.{stream}.{day:%Y%m%d}", stream, interval.start, interval.end, status, newest),
    )
    conn.commit()


@pytest.mark.parametrize("records_gated", [False, True], ids=["synced", "gated ids"])
def test_the_gate_keeps_the_newest_cursor_of_accepted_rows_never_a_quarantined_one(
    warehouse: Warehouse, records_gated: bool
) -> None:
    rows = sales_for_day(DAY).sales
    newest_valid = max(datetime.fromisoformat(row["updated_at"]) for row in rows)
    late_and_bad = {**rows[0], "sale_id": "S-late", "amount": "-5.00", "updated_at": "2026-11-20T23:59:00Z"}
    batch = Batch("crm", "sales", "updated_at", Interval.for_day(DAY), records_gated=records_gated)
    with warehouse.connect() as conn:
        land_sales(conn, [*rows, late_and_bad])
        result = validate_batch(conn, batch, Sale, max_reject_ratio=0.1, chunk_size=7)  # many chunks
        assert result.rejected == 1 and result.newest_cursor == newest_valid < at(DAY, 23.9)
        # the gate reads it in its scan; a replay, by a query of its own: the same answer
        assert newest_accepted_cursor(conn, batch, result) == newest_valid
        recorded = conn.execute(
            "select newest_cursor from audit.batches where batch_id = %s", (batch.batch_id,)
        ).fetchone()[0]
        assert recorded == newest_valid, "the quarantined row's later cursor does not count"


def test_a_batch_with_no_accepted_row_or_no_cursor_records_none(warehouse: Warehouse) -> None:
    bad = [{**row, "amount": "-1.00"} for row in sales_for_day(DAY).sales[:3]]
    with warehouse.connect() as conn:
        land_sales(conn, bad)
        batch = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))
        assert validate_batch(conn, batch, Sale, max_reject_ratio=1.0).newest_cursor is None
        assert conn.execute("select newest_cursor from audit.batches").fetchone() == (None,)


def test_fresh_warn_error_and_no_data(bootstrapped: Warehouse, caplog: pytest.LogCaptureFixture) -> None:
    source, day = crm(), Interval.for_day(DAY)
    with caplog.at_level(logging.WARNING, logger="liftoff.validate.freshness"):
        assert check_freshness("crm", source, day, bootstrapped)["sales"]["status"] == "no data"
    assert "crm.sales has no accepted row with a cursor" in caplog.text, "a warning, not an error"
    with bootstrapped.connect() as conn:
        gated(conn, DAY - timedelta(days=9), at(DAY - timedelta(days=9), 20))
        gated(conn, DAY - timedelta(days=1), at(DAY - timedelta(days=1), 21))  # 27 h before DAY's end
        gated(conn, DAY, None)  # a quiet day: nothing accepted
        gated(conn, DAY, at(DAY, 23), status="rejected", stream="x")  # another stream: not this one's

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="liftoff.validate.freshness"):
        results = check_freshness("crm", source, day, bootstrapped)
    assert results == {
        "sales": {
            "newest_cursor": "2026-11-19T21:00:00+00:00",
            "hours": 27.0,
            "status": "warn",
            "warn_after": 26,
            "error_after": 168,
        }
    }, "only the source's incremental streams with a cursor: the snapshots have none"
    [warning] = [r.getMessage() for r in caplog.records]
    assert "crm.sales" in warning and "27.0 hours" in warning and "warn_after (26 h)" in warning

    with bootstrapped.connect() as conn:
        gated(conn, DAY - timedelta(days=2), at(DAY - timedelta(days=2), 23))
        conn.execute("update audit.batches set status = 'rejected' where interval_start = %s", (at(DAY, 0),))
        conn.execute(
            "update audit.batches set newest_cursor = %s where interval_start = %s and stream = 'sales'",
            (at(DAY, 22), at(DAY, 0)),
        )
        conn.commit()
    # a rejected batch is not the stream's data: DAY's 22:00 does not count
    assert check_freshness("crm", source, day, bootstrapped)["sales"]["status"] == "warn"
    with bootstrapped.connect() as conn:
        conn.execute("update audit.batches set status = 'validated' where interval_start = %s", (at(DAY, 0),))
        conn.commit()
    fresh = check_freshness("crm", source, day, bootstrapped)["sales"]
    assert (fresh["status"], fresh["hours"]) == ("fresh", 2.0)


def test_a_stale_stream_stops_the_run_in_one_line_naming_threshold_and_runbook(
    bootstrapped: Warehouse,
) -> None:
    with bootstrapped.connect() as conn:
        gated(conn, DAY - timedelta(days=8), at(DAY - timedelta(days=8), 12))  # 204 h before DAY's end
        gated(conn, DAY, None)
    with pytest.raises(StaleSource) as info:
        check_freshness("crm", crm(), Interval.for_day(DAY), bootstrapped)
    message = str(info.value)
    assert "\n" not in message
    for part in (
        "crm.sales is stale",
        "updated_at landed is 2026-11-12 12:00 UTC",
        "204.0 hours before 2026-11-20's end",
        "error_after (168 h",
        "include/sources.yaml sources.crm.freshness.error_after",
        "check that crm still brings new rows",
        "runbook: docs/runbook.md#a-source-is-stale",
    ):
        assert part in message, part
    # error_after alone: a source may set either threshold
    only_error = crm().model_copy(
        update={"freshness": crm().freshness.model_copy(update={"warn_after": None})}
    )
    with pytest.raises(StaleSource):
        check_freshness("crm", only_error, Interval.for_day(DAY), bootstrapped)


def test_a_backfill_is_judged_on_its_own_days_data(bootstrapped: Warehouse) -> None:
    source = crm()
    old = DAY - timedelta(days=20)
    with bootstrapped.connect() as conn:
        gated(conn, old, at(old, 23))
        for later in range(1, 11):  # ten quiet days, then the source came back
            gated(conn, old + timedelta(days=later), None)
        gated(conn, DAY, at(DAY, 22))

    def status(day: date) -> dict:
        return check_freshness("crm", source, Interval.for_day(day), bootstrapped)["sales"]

    # the old day's check, rerun today, is measured against its own end, not now
    assert (status(old)["status"], status(old)["hours"]) == ("fresh", 1.0)
    assert status(old + timedelta(days=1))["hours"] == 25.0, "a later batch is not seen"
    assert status(old + timedelta(days=2))["status"] == "warn"
    with pytest.raises(StaleSource, match=r"193\.0 hours before 2026-11-08's end"):
        status(old + timedelta(days=8))  # DAY's batch, landed later, does not make it fresh
    assert status(DAY)["status"] == "fresh"


def test_a_source_without_freshness_is_not_checked() -> None:
    class Unreachable:
        def connect(self):
            raise AssertionError("no query for a source without thresholds")

    entry = load_sources()["entry"]
    assert entry.freshness is None
    assert check_freshness("entry", entry, Interval.for_day(DAY), Unreachable()) == {}


@pytest.mark.parametrize(
    ("block", "error"),
    [
        ("{warn_after: 200, error_after: 168}", r"sources\.crm\.freshness: .*warn_after \(200 h\) is over"),
        ("{warn_after: -1}", r"sources\.crm\.freshness\.warn_after: Input should be greater than 0"),
        ("{error_after: 0}", r"sources\.crm\.freshness\.error_after: Input should be greater than 0"),
        ("{}", r"sources\.crm\.freshness: .*give warn_after, error_after or both"),
        ("{warn_after: 26, errors_after: 168}", r"sources\.crm\.freshness\.errors_after: Extra inputs"),
    ],
)
def test_a_wrong_freshness_block_is_refused_in_one_line_naming_the_source(
    tmp_path: Path, block: str, error: str
) -> None:
    document = yaml.safe_load((INCLUDE_DIR / "sources.yaml").read_text())
    document["sources"]["crm"]["freshness"] = yaml.safe_load(block)
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=error) as info:
        load_sources(path)
    assert "\n" not in str(info.value)


def test_freshness_needs_an_incremental_stream() -> None:
    with pytest.raises(ValueError, match="incremental streams with a cursor_field: this source has none"):
        SourceConfig.model_validate(
            {
                "mode": "push",
                "freshness": {"warn_after": 26},
                "streams": {
                    "sellers": {"sync": "full_refresh", "contract": "seller", "primary_key": "seller_id"}
                },
            }
        )
