"""The timetable of the daily DAGs: one run per UTC day, and the day is the run's logical date.

Airflow's ``CronDataIntervalTimetable`` gives a scheduled run of day D the logical date D
(its interval's start), but infers a *manual* run's interval as the last complete one
before its logical date. So a trigger with logical date D ran day D - 1, and a run of day D
triggered with logical date D + 1 took that logical date from the scheduler's own run of
day D + 1, which the scheduler then skipped (``run already exists``).

Here a manual run covers the day its logical date falls in, so every run of day D,
scheduled, backfilled or triggered at D 00:00 (UI, REST API, ``liftoff run``), has logical
date D and interval [D, D + 1 day): one day, one run.

A trigger at another time of day D also runs day D, beside the day's own run. `liftoff run`
triggers at 00:00, except for a day that has not ended, which it triggers at the current time,
so a partial day never takes the place of the day's own run. ``liftoff.airflow_plugin``
registers this timetable with Airflow.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.timetables.base import DataInterval
from airflow.timetables.interval import CronDataIntervalTimetable

from liftoff.batch import PARTIAL_DAY, day_not_ended


class DailyTimetable(CronDataIntervalTimetable):
    """``@daily`` data intervals (UTC); a manual run covers the day of its logical date."""

    description = "Daily at 00:00 UTC, for the day before; a trigger runs the day of its logical date"

    def __init__(self, cron: str = "@daily", timezone: str = "UTC") -> None:
        super().__init__(cron, timezone)

    def infer_manual_data_interval(self, *, run_after) -> DataInterval:
        """The day of the logical date. A trigger at 00:00 of a day that has not ended is
        refused (the API answers 400 with this line): the scheduler makes that day's run
        when the day ends, and would skip it if a run already held its logical date."""
        start = self._align_to_prev(run_after)
        end = self._get_next(start)
        if run_after == start and end > datetime.now(UTC):
            raise ValueError(
                day_not_ended(
                    start.date(),
                    "the scheduler runs it when it ends. To run it so far, trigger it with logical date"
                    f' now and config {{"{PARTIAL_DAY}": true}}',
                )
            )
        return DataInterval(start=start, end=end)
