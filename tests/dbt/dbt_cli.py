"""`dbt run` of some models for one run's interval, as the pipeline's dbt sees it (the tests here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from liftoff.batch import Interval
from liftoff.config import DBT_PROJECT_DIR, TELEMETRY_OFF
from liftoff.transform.task_groups import interval_env
from liftoff.warehouse.location import Warehouse

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt_run(target: Warehouse, tmp_path: Path, interval: Interval, *select: str) -> None:
    """`dbt run --select <select>` with the interval in the environment; its log in tmp_path/dbt.log."""
    env = {**os.environ, **TELEMETRY_OFF, **target.dbt_env, **interval_env(interval)}
    done = subprocess.run(
        [DBT, "run", "--select", *select, "--profiles-dir", ".", "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path)],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
