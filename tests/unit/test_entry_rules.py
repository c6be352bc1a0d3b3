"""The entry form's rules that need no warehouse: a sale older than gold's lookback is saved
with a warning that says what happens to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from liftoff.config import dbt_var
from liftoff.entry.form import check_sale

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def check(sold_at: datetime):
    return check_sale(
        "entry-1",
        seller_email="ana@liftoff.example",
        sold_at=sold_at,
        amount="49.00",
        quantity=1,
        product="Starter Plan",
        products={"Starter Plan"},
        now=NOW,
    )


def test_a_sale_within_gold_lookback_has_no_warning() -> None:
    lookback = int(dbt_var("gold_daily_lookback_days"))
    checked = check(NOW - timedelta(days=lookback))
    assert checked.sale is not None and checked.warnings == []


def test_an_older_sale_is_saved_with_a_warning_naming_the_rerun() -> None:
    lookback = int(dbt_var("gold_daily_lookback_days"))
    checked = check(NOW - timedelta(days=lookback + 1))
    assert checked.sale is not None, "saved: silver takes it with the next run"
    [warning] = checked.warnings
    assert f"last {lookback + 1} days only" in warning and "rerun" in warning
