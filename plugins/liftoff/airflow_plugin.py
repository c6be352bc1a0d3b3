"""What LiftOff registers with Airflow (entry point ``airflow.plugins``): the daily timetable."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from liftoff.timetable import DailyTimetable


class LiftoffPlugin(AirflowPlugin):
    name = "liftoff"
    timetables = [DailyTimetable]
