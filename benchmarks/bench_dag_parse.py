"""Parse time of the DAG folder as deployed, vs Cosmos rendering per-model tasks from `dbt ls`.

Each sample is a fresh interpreter that fills a DagBag from dags/, as the dag-processor
does; the time is that of the DagBag fill alone (imports of Airflow excluded).

- subject: the default settings (``layer``: one `dbt build` task per layer, nothing of
  the dbt project read at parse time);
- baseline: the per-model ``build`` setting with ``LoadMode.DBT_LS`` (Cosmos runs `dbt ls`);
- noted: the same per-model setting from the precompiled manifest (``LoadMode.DBT_MANIFEST``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

from benchmarks.harness import Result, alternate
from liftoff.config import PROJECT_ROOT, TELEMETRY_OFF

PROBE = """
import dataclasses, time
from airflow.dag_processing.dagbag import DagBag
if {dbt_ls!r}:  # the baseline: Cosmos runs `dbt ls` at parse time instead of reading the manifest
    from cosmos.constants import LoadMode
    import liftoff.transform.task_groups as task_groups
    rendered = task_groups.render_config
    def dbt_ls(*args):
        return dataclasses.replace(rendered(*args), load_method=LoadMode.DBT_LS)
    task_groups.render_config = dbt_ls
started = time.perf_counter()
bag = DagBag(dag_folder={dags!r})
elapsed = time.perf_counter() - started
assert not bag.import_errors, bag.import_errors
assert "sales_elt" in bag.dags
print(elapsed)
"""


def parse_seconds(airflow_home: str, execution: str | None = None, load_mode: str = "dbt_manifest") -> float:
    env = {
        **os.environ,
        **TELEMETRY_OFF,
        "AIRFLOW_HOME": airflow_home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__COSMOS__ENABLE_CACHE": "False",  # every `dbt ls` sample really runs dbt ls
    }
    if execution:
        env["LIFTOFF_DBT_EXECUTION"] = execution
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(dags=str(PROJECT_ROOT / "dags"), dbt_ls=load_mode == "dbt_ls")],
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
            lambda: parse_seconds(home), lambda: parse_seconds(home, "build", "dbt_ls"), repeat
        )
        per_model = [parse_seconds(home, "build") for _ in range(repeat)]
    notes = {"per_model_dbt_manifest_s": round(statistics.median(per_model), 3)}
    return Result("dag_parse", "default_layer", "per_model_dbt_ls", subject, baseline, notes)
