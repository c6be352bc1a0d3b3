"""The dashboards page through AppTest, reading gold as the analyst role."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from liftoff.batch import Interval
from liftoff.config import PROJECT_ROOT, get_settings
from liftoff.warehouse.refreshes import record_refresh
from tests.entry.conftest import AppWarehouse

PAGE = PROJECT_ROOT / "apps" / "entry" / "views" / "dashboards.py"
DAYS = (date(2026, 11, 19), date(2026, 11, 20))
GOLD_DDL = [
    "create table gold.gold_sales_by_product_7d (as_of_date date, product text, sales bigint, units bigint,"
    " revenue numeric(14, 2), avg_ticket numeric(14, 2), revenue_rank integer)",
    "create table gold.gold_sales_by_seller_7d (as_of_date date, seller_email text, sales bigint,"
    " units bigint, revenue numeric(14, 2), avg_ticket numeric(14, 2), revenue_rank integer)",
    "create table gold.gold_sales_daily (sale_date date, sales bigint, units bigint, revenue numeric(14, 2),"
    " avg_ticket numeric(14, 2), active_sellers bigint)",
    "create view gold.gold_refreshes as select * from audit.refreshes",
]
TODAY_DDL = (  # gold_sales_today's shape, as dbt's view has it
    "create table gold.gold_sales_today (sale_date date, product text, seller_email text,"
    " sales bigint, units bigint, revenue numeric(14, 2), last_sale_at timestamptz)"
)


@pytest.fixture
def dashboards(app_warehouse: AppWarehouse, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LIFTOFF_ANALYST_URL", app_warehouse.analyst.url)
    get_settings.cache_clear()
    yield lambda: AppTest.from_file(str(PAGE), default_timeout=30).run()
    get_settings.cache_clear()


def fill_gold(app_warehouse: AppWarehouse) -> None:
    """Two days of gold, as the pipeline writes it (dbt's tables, the refresh log)."""
    with app_warehouse.pipeline.connect() as conn:
        for ddl in GOLD_DDL:
            conn.execute(ddl)
        for offset, day in enumerate(DAYS):
            conn.execute(
                "insert into gold.gold_sales_by_product_7d values (%s, 'Growth Plan', 2, 3, %s, 100, 1),"
                " (%s, 'Starter Plan', 1, 1, 49, 49, 2)",
                (day, 200 + offset, day),
            )
            conn.execute(
                "insert into gold.gold_sales_by_seller_7d"
                " values (%s, 'ana@liftoff.example', 3, 4, %s, 83, 1)",
                (day, 249 + offset),
            )
            daily = "insert into gold.gold_sales_daily values (%s, 3, 4, %s, 83, 1)"
            conn.execute(daily, (day, 249 + offset))
        conn.commit()
        record_refresh(conn, Interval.for_day(DAYS[-1]), "scheduled__2026-11-20T00:00:00+00:00")


def test_before_the_first_run_the_page_says_so(dashboards) -> None:
    page = dashboards()
    assert not page.exception
    assert "No gold data yet" in page.info[0].value


def test_the_reference_day_picks_the_figures(dashboards, app_warehouse: AppWarehouse) -> None:
    fill_gold(app_warehouse)
    page = dashboards()
    assert not page.exception, page.exception
    picker = page.date_input[0]
    assert picker.value == DAYS[-1] and picker.min == DAYS[0] and picker.max == DAYS[-1]
    # the refresh was just written: a caption, not a warning
    assert any(f"Data through **{DAYS[-1]}**" in c.value for c in page.caption) and not page.warning
    products, sellers, trend = (frame.value for frame in page.dataframe)
    assert products["product"].tolist() == ["Growth Plan", "Starter Plan"]
    assert products["revenue"].tolist() == [201.0, 49.0]
    assert sellers["seller"].tolist() == ["ana@liftoff.example"]
    assert [str(d) for d in trend["sale_date"]] == [str(d) for d in DAYS]
    picker.set_value(DAYS[0]).run()
    assert page.dataframe[0].value["revenue"].tolist() == [200.0, 49.0]
    assert len(page.dataframe[2].value) == 1, "the trend ends on the reference day"


def test_an_old_refresh_is_a_warning(dashboards, app_warehouse: AppWarehouse) -> None:
    fill_gold(app_warehouse)
    with app_warehouse.owner.connect() as conn:
        conn.execute("update audit.refreshes set refreshed_at = now() - interval '3 days'")
        conn.commit()
    page = dashboards()
    assert "Data through" in page.warning[0].value and "h ago" in page.warning[0].value


def test_today_so_far_shows_the_stream_preview(dashboards, app_warehouse: AppWarehouse) -> None:
    fill_gold(app_warehouse)
    with app_warehouse.pipeline.connect() as conn:
        conn.execute(TODAY_DDL)
        conn.execute(
            "insert into gold.gold_sales_today values"
            " (current_date, 'Extra Seat', 'ana@liftoff.example', 2, 3, 81, '2026-11-30 09:15:02+00'),"
            " (current_date, 'Extra Seat', 'bruno@liftoff.example', 1, 1, 27, '2026-11-30 09:20:41+00'),"
            " (current_date, 'Growth Plan', 'ana@liftoff.example', 1, 1, 199, '2026-11-30 08:01:00+00')"
        )
        conn.commit()
    page = dashboards()
    assert not page.exception, page.exception
    today = page.dataframe[3].value
    assert today["product"].tolist() == ["Growth Plan", "Extra Seat"]
    assert today["sales"].tolist() == [1, 3] and today["revenue"].tolist() == [199.0, 108.0]
    assert any("4 sales, latest received 09:20:41 UTC" in c.value for c in page.caption)


def test_no_sale_yet_today_says_so(dashboards, app_warehouse: AppWarehouse) -> None:
    fill_gold(app_warehouse)
    with app_warehouse.pipeline.connect() as conn:
        conn.execute(TODAY_DDL)
        conn.commit()
    page = dashboards()
    assert any("No point-of-sale sales yet today" in c.value for c in page.caption)
    assert len(page.dataframe) == 3
