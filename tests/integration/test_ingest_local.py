"""Embedded ingestion: the declarative manifest run by the Airbyte CDK against the demo API."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from liftoff.batch import Batch, Interval
from liftoff.config import ConfigError, Settings, load_sources
from liftoff.ingest.landing_layout import CLEAN_META
from liftoff.ingest.local import IngestError, sync_interval
from liftoff.ingest.state import Continuity, read_state
from liftoff.warehouse.location import Warehouse
from sales_api.server import free_port
from tests.integration.expected import api_orders, api_sales

DAY = date(2026, 11, 20)
INTERVAL = Interval.for_day(DAY)


def api_count(api_url: str, day: date) -> int:
    params = {"updated_since": f"{day}T00:00:00Z", "updated_until": f"{day}T23:59:59Z"}
    return httpx.get(f"{api_url}/sales", params=params).json()["total"]


def settings_for(home: Path) -> Settings:
    return Settings(home=home)


@pytest.fixture(autouse=True)
def _bootstrapped(bootstrapped: Warehouse) -> None:
    """Each test's `warehouse` is bootstrapped, as every deployment's is before a run."""


@pytest.fixture
def crm(monkeypatch: pytest.MonkeyPatch):
    source = load_sources()["crm"]
    return source


def test_sync_lands_the_window_in_airbyte_layout_and_rerun_replaces(
    warehouse: Warehouse, sales_api: str, liftoff_home: Path, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTOFF_API_URL", sales_api)
    # page size 500 in the manifest and ~50 rows a day: two days prove the window, not pagination
    landed = sync_interval("crm", crm, INTERVAL, warehouse, settings_for(liftoff_home))
    assert landed == {"sales": api_count(sales_api, DAY), "sellers": 8, "products": 10}
    with warehouse.connect() as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'raw_crm' and table_name = 'sales'"
            )
        }
        assert {
            "_airbyte_raw_id",
            "_airbyte_extracted_at",
            "_airbyte_meta",
            "sale_id",
            "updated_at",
        } <= columns
        next_day = Interval.for_day(date(2026, 11, 21))
        sync_interval("crm", crm, next_day, warehouse, settings_for(liftoff_home))
        again = sync_interval("crm", crm, INTERVAL, warehouse, settings_for(liftoff_home))
        assert again == landed, "a rerun of a day re-syncs exactly that day"
        total = conn.execute("select count(*) from raw_crm.sales").fetchone()[0]
        assert total == api_count(sales_api, DAY) + api_count(sales_api, date(2026, 11, 21))
        snapshots = conn.execute(
            "select (select count(*) from raw_crm.sellers), (select count(*) from raw_crm.products)"
        )
        assert snapshots.fetchone() == (8, 10), "reference snapshots are replaced, not appended"
        batch = Batch.of("crm", "sales", crm.streams["sales"], INTERVAL)
        assert batch.count(conn) == landed["sales"]


def test_landed_values_are_what_the_api_sent_in_airbytes_column_types(
    warehouse: Warehouse, sales_api: str, liftoff_home: Path, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTOFF_API_URL", sales_api)
    before = datetime.now(UTC).replace(tzinfo=None)
    sync_interval("crm", crm, INTERVAL, warehouse, settings_for(liftoff_home))
    sent = {row["sale_id"]: row for row in api_sales(sales_api, DAY)}
    with warehouse.connect() as conn:
        types = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'raw_crm' and table_name = 'sales'"
            ).fetchall()
        )
        rows = conn.execute(
            "select sale_id, amount, quantity, sold_at, updated_at, _record::text, _airbyte_raw_id,"
            " _airbyte_extracted_at, _airbyte_meta::text from raw_crm.sales"
        ).fetchall()
    assert types["_record"] == "json" and types["amount"] == "character varying"
    assert types["_airbyte_extracted_at"] == "timestamp without time zone"
    assert len(rows) == len(sent) and len({row[6] for row in rows}) == len(rows), "one id per record"
    for sale_id, amount, quantity, sold_at, updated_at, record, _, extracted_at, meta in rows:
        api = sent[sale_id]
        # as sent: "49.00" stays "49.00" (no float on the way), a number becomes its JSON text
        assert (amount, sold_at, updated_at) == (api["amount"], api["sold_at"], api["updated_at"])
        sent_quantity = api["quantity"]
        assert quantity == (sent_quantity if isinstance(sent_quantity, str) else json.dumps(sent_quantity))
        assert json.loads(record) == api, "the whole record, as the API sent it"
        assert before <= extracted_at <= datetime.now(UTC).replace(tzinfo=None) and meta == CLEAN_META


def test_sync_retries_through_429_and_503(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    server.inject_faults(429, 2)
    landed = sync_interval("crm", crm, INTERVAL, warehouse, settings_for(liftoff_home))
    assert landed["sales"] == api_count(server.url, DAY)
    served = httpx.get(f"{server.url}/_faults").json()["served"]
    assert served == 2, "the connector met both injected 429s and retried"


def test_api_down_is_a_one_line_ingest_error(
    warehouse: Warehouse, liftoff_home: Path, crm, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("LIFTOFF_API_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(IngestError, match="sync of crm for 2026-11-20 failed") as info:
        sync_interval("crm", crm, INTERVAL, warehouse, settings_for(liftoff_home), timeout_seconds=300)
    assert "\n" not in str(info.value)


def test_pagination_follows_every_page(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    small_pages = crm.model_copy(update={"config": crm.config.model_copy(update={"page_size": 7})})
    landed = sync_interval("crm", small_pages, INTERVAL, warehouse, settings_for(liftoff_home))
    total = api_count(server.url, DAY)
    assert landed["sales"] == total
    requests = httpx.get(f"{server.url}/_stats").json()["sales_requests"] - 1  # less api_count's own
    assert requests >= -(-total // 7), f"{total} rows at 7 a page need {-(-total // 7)} pages, saw {requests}"


def test_a_new_upstream_field_lands_without_losing_data(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRM grows `channel`, which the connector does not declare: it is kept, in _record."""
    old, new = api_server_factory(), api_server_factory(with_channel=True)
    monkeypatch.setenv("LIFTOFF_API_URL", old.url)
    sync_interval("crm", crm, Interval.for_day(date(2026, 11, 19)), warehouse, settings_for(liftoff_home))
    monkeypatch.setenv("LIFTOFF_API_URL", new.url)
    sync_interval("crm", crm, INTERVAL, warehouse, settings_for(liftoff_home))
    with warehouse.connect() as conn:
        channels = dict(
            conn.execute(
                "select left(updated_at, 10), count(_record->>'channel') from raw_crm.sales group by 1"
            ).fetchall()
        )
        assert channels == {"2026-11-19": 0, "2026-11-20": api_count(new.url, DAY)}
        kinds = {r[0] for r in conn.execute("select distinct _record->>'channel' from raw_crm.sales")}
        assert kinds - {None} <= {"web", "phone", "partner"} and len(kinds - {None}) >= 2


@pytest.fixture
def shop():
    return load_sources()["shop"]


def test_incremental_state_continues_reports_a_gap_and_a_rerun_keeps_the_cursor(
    warehouse: Warehouse,
    sales_api: str,
    liftoff_home: Path,
    shop,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("LIFTOFF_API_URL", sales_api)
    settings = settings_for(liftoff_home)
    days = [date(2026, 11, 18), date(2026, 11, 19)]
    seen = []
    caplog.set_level("INFO", logger="liftoff.ingest.state")
    for day in days:
        with warehouse.connect() as conn:
            state = read_state(conn, "shop", "orders")
            seen.append(state.continuity(Interval.for_day(day)) if state else Continuity.FIRST)
        sync_interval("shop", shop, Interval.for_day(day), warehouse, settings)
    assert seen == [Continuity.FIRST, Continuity.CONTINUES]
    with warehouse.connect() as conn:
        state = read_state(conn, "shop", "orders")
        assert state.cursor == Interval.for_day(days[-1]).end, "the next run continues from the 20th"
        assert state.last_rows == len(api_orders(sales_api, days[-1]))

    again = sync_interval("shop", shop, Interval.for_day(days[0]), warehouse, settings)
    assert again == {"orders": len(api_orders(sales_api, days[0]))}, "a rerun re-syncs exactly its day"
    with warehouse.connect() as conn:
        assert read_state(conn, "shop", "orders").cursor == Interval.for_day(days[-1]).end, "cursor kept"
        per_day = dict(conn.execute("select left(modified_at, 10), count(*) from raw_shop.orders group by 1"))
        assert per_day == {str(d): len(api_orders(sales_api, d)) for d in days}, "no duplicates"

    caplog.clear()
    sync_interval("shop", shop, Interval.for_day(date(2026, 11, 22)), warehouse, settings)
    gap = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(gap) == 1 and "2 day(s) never synced (2026-11-20 to 2026-11-21)" in gap[0], gap
    assert "airflow backfill create --dag-id sales_elt" in gap[0]


def test_second_source_cursor_pages_nested_lines_and_its_token(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    small_pages = shop.model_copy(update={"config": shop.config.model_copy(update={"page_size": 3})})
    landed = sync_interval("shop", small_pages, INTERVAL, warehouse, settings_for(liftoff_home))
    orders = api_orders(server.url, DAY)
    assert landed == {"orders": len(orders)} and len(orders) > 3
    with warehouse.connect() as conn:
        lines = dict(conn.execute("select order_id, lines from raw_shop.orders").fetchall())
        assert lines == {o["order_id"]: o["lines"] for o in orders}, "nested lines land whole, as JSON"

    monkeypatch.delenv("LIFTOFF_SHOP_TOKEN")
    with pytest.raises(ConfigError, match="LIFTOFF_SHOP_TOKEN is not set"):
        sync_interval("shop", shop, INTERVAL, warehouse, settings_for(liftoff_home))
    monkeypatch.setenv("LIFTOFF_SHOP_TOKEN", "not-the-token")
    with pytest.raises(IngestError, match=r"refused the token.*HTTP 401: missing or wrong X-Shop-Token"):
        sync_interval("shop", shop, INTERVAL, warehouse, settings_for(liftoff_home), timeout_seconds=300)
    with warehouse.connect() as conn:
        assert conn.execute("select count(*) from raw_shop.orders").fetchone()[0] == len(orders)


def test_a_failed_sync_leaves_landing_as_it_was(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    sync_interval("shop", shop, INTERVAL, warehouse, settings_for(liftoff_home))
    with warehouse.connect() as conn:
        before = conn.execute("select md5(string_agg(t::text, '' order by t::text)) from raw_shop.orders t")
        before = before.fetchone()[0]
    server.inject_faults(403, 1)  # the connector gives up at once
    with pytest.raises(IngestError, match=r"sync of shop for 2026-11-20 failed"):
        sync_interval("shop", shop, INTERVAL, warehouse, settings_for(liftoff_home), timeout_seconds=600)
    with warehouse.connect() as conn:
        after = conn.execute("select md5(string_agg(t::text, '' order by t::text)) from raw_shop.orders t")
        assert after.fetchone()[0] == before, "the day's landed rows are still there, untouched"
        staging = conn.execute("select count(*) from pg_namespace where nspname like 'raw_shop\\_\\_%'")
        assert staging.fetchone()[0] == 0, "the failed run's staging schema is gone"


def test_a_warehouse_never_bootstrapped_is_one_line_naming_the_command(
    database_factory, liftoff_home: Path, crm, sales_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTOFF_API_URL", sales_api)
    expected = r"raw_crm or the audit tables do not exist: run `liftoff bootstrap`"
    with pytest.raises(ConfigError, match=expected):
        sync_interval("crm", crm, INTERVAL, database_factory(), settings_for(liftoff_home))
