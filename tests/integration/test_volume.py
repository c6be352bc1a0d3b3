"""A day far quieter than its recent days is reported for a person's approval, unless the run accepts it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from liftoff.batch import Interval
from liftoff.config import load_sources
from liftoff.pipeline import validate
from liftoff.warehouse.location import Warehouse
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

DAY = date(2026, 11, 20)


def crm_sales():
    crm = load_sources()["crm"]
    assert crm.streams["sales"].min_volume_ratio, "sources.yaml sets the check on the CRM's sales"
    return crm.model_copy(update={"streams": {"sales": crm.streams["sales"]}})


def test_a_day_with_a_fraction_of_its_usual_rows_is_reported_with_the_numbers(
    bootstrapped: Warehouse,
) -> None:
    source = crm_sales()
    with bootstrapped.connect() as conn:
        for offset in range(5, 0, -1):  # five normal days
            land_sales(conn, sales_for_day(DAY - timedelta(days=offset)).sales)
            validate("crm", source, Interval.for_day(DAY - timedelta(days=offset)), bootstrapped)
        usual = len(sales_for_day(DAY - timedelta(days=1)).sales)
        land_sales(conn, sales_for_day(DAY).sales[:3])  # an export cut short: 3 valid rows
    reported = validate("crm", source, Interval.for_day(DAY), bootstrapped)["sales"]
    median = sorted(len(sales_for_day(DAY - timedelta(days=n)).sales) for n in range(1, 6))[2]
    assert reported["volume_drop"] == (
        f"batch crm.sales.{DAY:%Y%m%d}T0000 landed 3 rows,"
        f" under 25% of the median of its last 5 days ({median})"
    )
    results = validate("crm", source, Interval.for_day(DAY), bootstrapped, accept_low_volume=True)
    assert results["sales"]["landed"] == 3 and usual > 12 and results["sales"]["volume_drop"] is None
    usual_day = validate("crm", source, Interval.for_day(DAY - timedelta(days=1)), bootstrapped)["sales"]
    assert usual_day["landed"] == usual and usual_day["volume_drop"] is None


def test_the_run_passes_its_acceptance_to_airflow(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import json
    import subprocess

    from liftoff.local import airflow_runner

    seen = []

    def airflow(command, **_):
        seen.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(airflow_runner.subprocess, "run", airflow)
    airflow_runner.run_day(DAY, {}, tmp_path, conf={"accept_low_volume": True})
    [command] = seen
    assert json.loads(command[command.index("--conf") + 1]) == {"accept_low_volume": True}
