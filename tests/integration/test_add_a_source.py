"""Adding a source is one entry in include/sources.yaml: proved in a copy of the project.

The copy gets one entry, `crm2` (the CRM's manifest and its three streams under a new
name: the same sale, seller and product ids as `crm`'s), then what a data engineer runs:
`make manifest`, then `liftoff run` for a day. Its rows must reach bronze, silver and gold.
The copy's own code runs (PYTHONPATH), so its project root, DAGs and dbt project are the
copy's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from liftoff.config import PROJECT_ROOT
from liftoff.warehouse.location import Warehouse
from tests.unit.test_derive import SECOND_CRM

DAY = date(2026, 11, 20)
VENV = Path(sys.executable).parent.parent


def per_source_products(conn) -> int:
    return conn.execute("select count(*) from silver.silver_products where source = 'crm'").fetchone()[0]


def test_one_entry_in_sources_yaml_reaches_gold(warehouse: Warehouse, sales_api: str, tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv*", ".liftoff", "target", "logs", "site", "__pycache__"),
    )
    sources_yaml = copy / "include" / "sources.yaml"
    sources_yaml.write_text(sources_yaml.read_text() + SECOND_CRM)  # the one change

    env = {
        **os.environ,
        "PYTHONPATH": str(copy / "plugins"),
        "LIFTOFF_WAREHOUSE_URL": warehouse.url,
        "LIFTOFF_API_URL": sales_api,
        "LIFTOFF_HOME": str(tmp_path / "home"),
        "LIFTOFF_AIRBYTE_PYTHON": str(PROJECT_ROOT / ".venv-airbyte" / "bin" / "python"),
    }
    env.pop("LIFTOFF_SOURCES_FILE", None)
    made = subprocess.run(  # the virtualenv is this one's, taken as installed (-o): never reinstalled
        ["make", "-C", str(copy), "manifest", f"VENV={VENV}", "-o", f"{VENV}/.installed"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert "bronze_crm2_sales" in (copy / "include/dbt/target/manifest.json").read_text()

    done = subprocess.run(
        [str(VENV / "bin" / "liftoff"), "run", "--date", DAY.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    with warehouse.connect() as conn:

        def one(query: str, *params) -> int:
            return conn.execute(query, params).fetchone()[0]

        crm, crm2 = (one(f"select count(*) from bronze.bronze_{s}_sales") for s in ("crm", "crm2"))
        assert crm2 == crm > 0, "the new source lands, is validated and reaches bronze"
        silver = dict(conn.execute("select source, count(*) from silver.silver_sales group by 1").fetchall())
        assert silver["crm2"] == silver["crm"] > 0, "silver takes every bronze model of the contract"
        assert one("select count(*) from audit.batches where source = 'crm2' and status = 'archived'") == 3
        counted = one("select count(*) from silver.silver_sales where sale_date = %s and not is_outlier", DAY)
        crm2_counted = one(
            "select count(*) from silver.silver_sales where sale_date = %s and not is_outlier"
            " and source = 'crm2'",
            DAY,
        )
        assert crm2_counted > 0
        assert one("select sales from gold.gold_sales_daily where sale_date = %s", DAY) == counted, (
            "gold counts the new source's sales with the others'"
        )
        # The same ids in a second source's reference data are that source's records: two
        # catalogues, two teams in silver; gold names each product once.
        for table, key in (("silver_products", "product_id"), ("silver_sellers", "seller_id")):
            per_source = dict(
                conn.execute(f"select source, count(*) from silver.{table} group by 1").fetchall()
            )
            assert per_source["crm2"] == per_source["crm"] > 0, table
            shared = one(
                f"select count(*) from silver.{table} a join silver.{table} b using ({key})"
                " where a.source = 'crm' and b.source = 'crm2'"
            )
            assert shared == per_source["crm"], f"the same {key}s in both sources"
        assert one("select count(*) from gold.gold_products") == per_source_products(conn)
