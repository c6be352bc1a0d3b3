"""The dbt project's own tests of its rules: YAML unit tests on an empty build, real PostgreSQL.

`dbt build --empty` creates every model with no rows (unit tests need their parents to
exist), then `dbt test --select test_type:unit` runs the silver and gold unit tests. A
second run with the outlier rule switched off proves the unit tests can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liftoff.config import DBT_PROJECT_DIR, TELEMETRY_OFF
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.target import WarehouseTarget

DBT = str(Path(sys.executable).with_name("dbt"))
# The landing tables as the connectors create them: Airbyte's columns and the streams' own.
LANDING = {
    "raw_crm.sales": "sale_id varchar, seller_email varchar, product varchar, quantity numeric,"
    " amount varchar, sold_at varchar, updated_at varchar",
    "raw_crm.sellers": "seller_id varchar, name varchar, email varchar, region varchar, updated_at varchar",
    "raw_crm.products": "product_id varchar, name varchar, category varchar, unit_price varchar,"
    " updated_at varchar",
    "raw_shop.orders": "order_id varchar, sales_rep varchar, customer json, placed_at varchar,"
    " modified_at varchar, lines json",
}


def dbt(target: WarehouseTarget, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **TELEMETRY_OFF, **target.dbt_env}
    return subprocess.run(
        [
            DBT,
            *args,
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.integration
def test_unit_tests_pass_and_can_fail(warehouse: WarehouseTarget, tmp_path: Path) -> None:
    with warehouse.connect() as conn:
        bootstrap(conn, ["crm", "shop", "entry"])  # entry: a pushed source, its table made here
        for table, columns in LANDING.items():
            conn.execute(
                f"create table {table} ({columns}, _record json, _airbyte_raw_id varchar,"
                " _airbyte_extracted_at timestamp, _airbyte_meta json)"
            )
        conn.commit()
    built = dbt(warehouse, tmp_path, "run", "--empty")
    assert built.returncode == 0, built.stdout[-3000:]

    done = dbt(warehouse, tmp_path, "test", "--select", "test_type:unit")
    assert done.returncode == 0, done.stdout[-3000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    passed = {r["unique_id"].split(".")[-1] for r in results if r["status"] == "pass"}
    assert {
        "silver_sales_latest_version_wins_and_rules_apply",
        "silver_sales_flags_a_price_far_from_the_products_median",
        "silver_sales_rerun_of_an_older_day_keeps_a_later_correction",
        "gold_sales_daily_arithmetic",
        "gold_sales_by_seller_7d_window_and_rank",
    } <= passed

    broken = dbt(
        warehouse, tmp_path, "test", "--select", "test_type:unit", "--vars", '{"outlier_threshold": 1000}'
    )
    assert broken.returncode != 0
    assert "silver_sales_flags_a_price_far_from_the_products_median" in broken.stdout
    assert "FAIL" in broken.stdout
