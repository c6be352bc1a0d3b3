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
from datetime import date
from pathlib import Path

from liftoff.batch import Interval
from liftoff.config import DBT_PROJECT_DIR, TELEMETRY_OFF, landing_schema, load_sources
from liftoff.ingest.landing_layout import pushed_table_ddl
from liftoff.transform.task_groups import interval_env
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import contract_columns, get_contract

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(target: Warehouse, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    interval = interval_env(Interval.for_day(date(2026, 1, 1)))  # any day: the build is empty
    env = {**os.environ, **TELEMETRY_OFF, **target.dbt_env, **interval}
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


def test_unit_tests_pass_and_can_fail(warehouse: Warehouse, tmp_path: Path) -> None:
    with warehouse.connect() as conn:
        sources = load_sources()
        bootstrap(conn, list(sources))  # a pushed source's landing tables are made here
        for name, source in sources.items():  # a synced one's as a connector would: text columns
            for stream, config in source.streams.items():
                fields = list(contract_columns(get_contract(config.contract)))
                for statement in pushed_table_ddl(landing_schema(name), stream, fields, config.primary_key):
                    conn.execute(statement)
        conn.commit()
    built = dbt(warehouse, tmp_path, "run", "--empty")
    assert built.returncode == 0, built.stdout[-3000:]
    with warehouse.connect() as conn:  # what a model promises unique, PostgreSQL keeps unique
        unique = {
            (table, tuple(columns))
            for table, columns in conn.execute(
                "select t.relname, array_agg(a.attname order by a.attnum) from pg_index i"
                " join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace"
                " join pg_attribute a on a.attrelid = t.oid and a.attnum = any(i.indkey)"
                " where i.indisunique and n.nspname = 'silver' group by t.relname, i.indexrelid"
            )
        }
    assert {
        ("silver_sales", ("sale_id", "source")),
        ("silver_sellers", ("source", "seller_id")),  # the same id in two sources: two records
        ("silver_sellers", ("source", "email")),
        ("silver_products", ("source", "product_id")),
        ("silver_products", ("source", "name")),
    } <= unique

    done = dbt(warehouse, tmp_path, "test", "--select", "test_type:unit")
    assert done.returncode == 0, done.stdout[-3000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    passed = {r["unique_id"].split(".")[-1] for r in results if r["status"] == "pass"}
    assert {
        "silver_sales_latest_version_wins_and_rules_apply",
        "silver_sales_flags_a_price_far_from_the_products_median",
        "silver_sales_rerun_of_an_older_day_keeps_a_later_correction",
        "silver_sales_a_source_never_replaces_another_sources_record",
        "gold_sales_daily_arithmetic",
        "gold_sales_by_seller_7d_window_and_rank",
    } <= passed

    broken = dbt(
        warehouse, tmp_path, "test", "--select", "test_type:unit", "--vars", '{"outlier_threshold": 1000}'
    )
    assert broken.returncode != 0
    assert "silver_sales_flags_a_price_far_from_the_products_median" in broken.stdout
    assert "FAIL" in broken.stdout
