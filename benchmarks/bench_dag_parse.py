"""Parse time of the DAG folder: Cosmos from the precompiled manifest vs from `dbt ls`.

Each sample is a fresh interpreter that fills a DagBag from dags/, as the dag-processor
does; the time is that of the DagBag fill alone (imports of Airflow excluded).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from benchmarks.harness import Result, alternate
from liftoff.config import PROJECT_ROOT, TELEMETRY_OFF

PROBE = """
import time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder={dags!r})
elapsed = time.perf_counter() - started
assert not bag.import_errors, bag.import_errors
assert "sales_elt" in bag.dags
print(elapsed)
"""


def parse_seconds(load_mode: str, airflow_home: str) -> float:
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        "AIRFLOW_HOME": airflow_home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__COSMOS__ENABLE_CACHE": "False",  # every `dbt ls` sample really runs dbt ls
        "LIFTOFF_DBT_LOAD_MODE": load_mode,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(dags=str(PROJECT_ROOT / "dags"))],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"parse with {load_mode} failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def run(repeat: int = 3) -> Result:
    with tempfile.TemporaryDirectory() as home:
        subject, baseline = alternate(
            lambda: parse_seconds("dbt_manifest", home), lambda: parse_seconds("dbt_ls", home), repeat
        )
    return Result("dag_parse", "cosmos_dbt_manifest", "cosmos_dbt_ls", subject, baseline)
