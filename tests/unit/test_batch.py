"""Intervals and batch identity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from liftoff.batch import Batch, Interval


def test_interval_for_day_is_one_utc_day() -> None:
    interval = Interval.for_day(date(2026, 11, 20))
    assert interval.start == datetime(2026, 11, 20, tzinfo=UTC)
    assert interval.end == datetime(2026, 11, 21, tzinfo=UTC)
    assert interval.day == date(2026, 11, 20)


def test_empty_interval_is_refused_with_the_reason() -> None:
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(ValueError, match="data-interval timetable"):
        Interval(moment, moment)


def test_naive_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Interval(datetime(2026, 11, 20), datetime(2026, 11, 21))


def test_batch_id_is_deterministic_per_source_stream_interval() -> None:
    first = Batch("crm", "sales", "updated_at", Interval.for_day(date(2026, 11, 20)))
    again = Batch("crm", "sales", "updated_at", Interval.for_day(date(2026, 11, 20)))
    other = Batch("crm", "sales", "updated_at", Interval.for_day(date(2026, 11, 21)))
    assert first.batch_id == again.batch_id == "crm.sales.20261120T0000"
    assert other.batch_id != first.batch_id


def test_a_run_without_a_data_interval_fails_at_once_in_one_line() -> None:
    """Airflow 3 lets a run be triggered with no logical date: it has no interval to own."""
    from liftoff.errors import Refused
    from liftoff.source_group import run_interval

    with pytest.raises(Refused, match="no data interval") as info:
        run_interval({"data_interval_start": None, "data_interval_end": None})
    assert "\n" not in str(info.value)
    run = SimpleNamespace(conf={})
    day = run_interval(
        {
            "data_interval_start": datetime(2026, 11, 20, tzinfo=UTC),
            "data_interval_end": datetime(2026, 11, 21, tzinfo=UTC),
            "dag_run": run,
        }
    )
    assert day == Interval.for_day(date(2026, 11, 20))


def test_a_run_of_a_day_not_ended_fails_at_once_unless_its_config_says_partial_day() -> None:
    from liftoff.errors import Refused
    from liftoff.source_group import run_interval

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    context = {"data_interval_start": today, "data_interval_end": today + timedelta(days=1)}
    with pytest.raises(Refused, match="has not ended yet") as info:
        run_interval({**context, "dag_run": SimpleNamespace(conf={})})
    assert "\n" not in str(info.value) and "partial_day" in str(info.value)
    partial = run_interval({**context, "dag_run": SimpleNamespace(conf={"partial_day": True})})
    assert partial.day == today.date()
