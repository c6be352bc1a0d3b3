"""The timetable of the daily DAGs: one run per UTC day, and the day is the run's logical date.

Airflow's ``CronDataIntervalTimetable`` gives a scheduled run of day D the logical date D
(its interval's start), but infers a *manual* run's interval as the last complete one
before its logical date: a trigger with logical date D ran day D - 1, and a run of day D
started as logical date D + 1 took the scheduler's own run of D + 1 (skipped from then on:
``run already exists``). Here a
manual run covers the day its logical date falls in, so every run of day D, scheduled,
backfilled or triggered (UI, REST API, ``liftoff run``), has logical date D and interval
[D, D + 1 day): one day, one run. Registered with Airflow by ``liftoff.airflow_plugin``.
"""

from __future__ import annotations

from airflow.timetables.base import DataInterval
from airflow.timetables.interval import CronDataIntervalTimetable


class DailyTimetable(CronDataIntervalTimetable):
    """``@daily`` data intervals (UTC); a manual run covers the day of its logical date."""

    description = "Daily at 00:00 UTC, for the day before; a trigger runs the day of its logical date"

    def __init__(self, cron: str = "@daily", timezone: str = "UTC") -> None:
        super().__init__(cron, timezone)

    def infer_manual_data_interval(self, *, run_after) -> DataInterval:
        start = self._align_to_prev(run_after)
        return DataInterval(start=start, end=self._get_next(start))
