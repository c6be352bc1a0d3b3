"""An API that pages without end stops the sync in one line, at once and for good.

A stream reads at most its ``max_records`` (include/sources.yaml) in one sync; a next-page
cursor the API already gave in the same read stops it too. Retrying would loop again, so the
failure is a ConfigError (Airflow fails the task without retries), and landing is untouched.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from liftoff.batch import Interval
from liftoff.config import DEFAULT_MAX_RECORDS, ConfigError, Settings, load_sources
from liftoff.ingest.local import IngestError, PaginationLoop, sync_interval
from liftoff.warehouse.location import Warehouse

DAY = date(2026, 11, 20)
INTERVAL = Interval.for_day(DAY)


def only(source, stream: str, *, page_size: int, **settings):
    """``source`` with one stream (its settings changed) and small pages."""
    config = source.streams[stream].model_copy(update=settings)
    return source.model_copy(
        update={
            "streams": {stream: config},
            "config": source.config.model_copy(update={"page_size": page_size}),
        }
    )


def test_every_stream_has_a_bound_and_the_yaml_can_set_it() -> None:
    sources = load_sources()
    assert sources["crm"].streams["sales"].max_records == 2_000_000
    assert sources["shop"].streams["orders"].max_records == DEFAULT_MAX_RECORDS


@pytest.mark.parametrize("mode", ["endless", "repeat_cursor"])
def test_a_crm_paging_without_end_stops_at_max_records(
    bootstrapped: Warehouse,
    api_server_factory,
    liftoff_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    """Full pages for ever (`endless`), or page 1 whatever the page asked (`repeat_cursor`):
    the CRM's client counts pages, so only the bound stops it."""
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    crm = only(load_sources()["crm"], "sales", page_size=7, max_records=60)
    server.paginate(mode)
    started = time.monotonic()
    with pytest.raises(PaginationLoop) as info:
        sync_interval("crm", crm, INTERVAL, bootstrapped, Settings(home=liftoff_home), timeout_seconds=300)
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, ConfigError) and isinstance(info.value, IngestError)
    assert "stream sales read more than its max_records (60)" in message
    assert "raise max_records of the stream in include/sources.yaml" in message
    assert time.monotonic() - started < 120
    with bootstrapped.connect() as conn:
        assert conn.execute("select to_regclass('raw_crm.sales')").fetchone()[0] is None, "nothing landed"


def test_a_repeated_next_cursor_stops_the_sync_in_one_line(
    bootstrapped: Warehouse, api_server_factory, liftoff_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    shop = only(load_sources()["shop"], "orders", page_size=3)
    sync_interval("shop", shop, INTERVAL, bootstrapped, Settings(home=liftoff_home))  # a day landed
    with bootstrapped.connect() as conn:
        before = conn.execute("select count(*) from raw_shop.orders").fetchone()[0]
    server.paginate("repeat_cursor")
    with pytest.raises(PaginationLoop) as info:
        sync_interval("shop", shop, INTERVAL, bootstrapped, Settings(home=liftoff_home), timeout_seconds=300)
    message = str(info.value)
    assert "\n" not in message and "stream orders: the API gave the next-page token" in message
    assert "again after 1 page(s)" in message and "repeats its cursor" in message
    with bootstrapped.connect() as conn:
        assert conn.execute("select count(*) from raw_shop.orders").fetchone()[0] == before, (
            "landing untouched"
        )

    server.paginate("none")  # the API mended: the same day syncs again
    assert sync_interval("shop", shop, INTERVAL, bootstrapped, Settings(home=liftoff_home)) == {
        "orders": before
    }


def test_a_shop_sending_full_pages_for_ever_stops_at_its_bound(
    bootstrapped: Warehouse, api_server_factory, liftoff_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = api_server_factory()
    monkeypatch.setenv("LIFTOFF_API_URL", server.url)
    shop = only(load_sources()["shop"], "orders", page_size=5, max_records=40)
    server.paginate("endless")
    with pytest.raises(PaginationLoop, match=r"stream orders read more than its max_records \(40\)"):
        sync_interval("shop", shop, INTERVAL, bootstrapped, Settings(home=liftoff_home), timeout_seconds=300)
