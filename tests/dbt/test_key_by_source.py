"""A deployment's silver_products built before records were keyed by source is upgraded by
its next run (no full refresh: bronze holds today's snapshot only, and a full refresh
would lose the products no longer listed)."""

from __future__ import annotations

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


def dbt(target: Warehouse, tmp_path: Path, *args: str) -> None:
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        **target.dbt_env,
        **interval_env(Interval.for_day(date(2026, 11, 20))),
    }
    done = subprocess.run(
        [DBT, *args, "--profiles-dir", ".", "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path)],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_catalogue_built_before_sources_keyed_it_is_upgraded_by_the_next_run(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    with warehouse.connect() as conn:
        sources = load_sources()
        bootstrap(conn, list(sources))
        for name, source in sources.items():
            for stream, config in source.streams.items():
                fields = list(contract_columns(get_contract(config.contract)))
                for statement in pushed_table_ddl(landing_schema(name), stream, fields, config.primary_key):
                    conn.execute(statement)
        conn.commit()
    dbt(warehouse, tmp_path, "run", "--empty", "--select", "+silver_products")
    with warehouse.connect() as conn:  # the table as the last release built it, with a product
        conn.execute("drop table silver.silver_products")
        conn.execute(
            "create table silver.silver_products (product_id text, name text, category text,"
            " unit_price numeric(12, 2), updated_at timestamptz, batch_id text)"
        )
        conn.execute("create unique index on silver.silver_products (product_id)")
        conn.execute("create unique index on silver.silver_products (name)")
        conn.execute(
            "insert into silver.silver_products values"
            " ('P009', 'Delisted Plan', 'service', 10, now(), 'crm.products.20261001T0000')"
        )
        conn.commit()

    dbt(warehouse, tmp_path, "run", "--select", "silver_products")

    with warehouse.connect() as conn:
        rows = conn.execute("select source, product_id, name from silver.silver_products").fetchall()
        unique = sorted(
            tuple(columns)
            for (columns,) in conn.execute(
                "select array_agg(a.attname order by a.attname) from pg_index i"
                " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)"
                " where i.indrelid = 'silver.silver_products'::regclass and i.indisunique"
                " group by i.indexrelid"
            )
        )
        conn.execute(  # a second source's product of the same id and name: its own record
            "insert into silver.silver_products (source, product_id, name)"
            " values ('crm2', 'P009', 'Delisted Plan')"
        )
    assert rows == [("crm", "P009", "Delisted Plan")], "the delisted product stays, its source filled in"
    assert unique == [("name", "source"), ("product_id", "source")]
