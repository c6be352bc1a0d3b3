"""The environment every dbt call of the pipeline gets (``PIPELINE_DBT_ENV``), read by dbt itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from liftoff.config import TELEMETRY_OFF
from liftoff.transform.task_groups import PIPELINE_DBT_ENV
from liftoff.transform.warm_dbt import write_project

DBT = str(Path(sys.executable).with_name("dbt"))


def _parse(project: Path, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    return subprocess.run(
        [DBT, "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        env={**env, **TELEMETRY_OFF, **extra_env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_pipelines_dbt_writes_no_log_file_and_still_prints_its_lines(tmp_path: Path) -> None:
    """Cosmos runs dbt in a temporary copy of the project and deletes it afterwards: a
    dbt.log there (every debug line, the SQL too) was written for nobody."""
    write_project(tmp_path)  # the dbt warm-up's one-model project, which parses without a server
    log = tmp_path / "logs" / "dbt.log"

    plain = _parse(tmp_path, {})
    assert plain.returncode == 0, plain.stdout[-2000:]
    assert log.stat().st_size > 0  # dbt's default: a debug log beside the project
    log.unlink()

    piped = _parse(tmp_path, PIPELINE_DBT_ENV)
    assert piped.returncode == 0, piped.stdout[-2000:]
    assert not log.exists()
    assert "Performance info" in piped.stdout or "Running with dbt" in piped.stdout  # the task's log
