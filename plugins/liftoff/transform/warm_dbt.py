"""dbt warmed up in each executor worker before its tasks fork (``TASK_PRELOAD`` imports this).

A process's first dbt call pays for code dbt makes on first use: the serialisers of the
manifest's classes (mashumaro compiles them), Jinja's environment, the adapter's macros.
Every dbt task is a fresh process forked from its worker, so each paid it again: 0.8 s of
each layer's `dbt build` (2.9 s cold against 2.0 s warm for silver, measured in forked
processes). Importing this module runs `dbt parse` of a throwaway one-model project twice in
the worker itself (the second reads the first one's partial-parse file, as every task's dbt
call reads the project's: 0.1 s more off each call), and the tasks forked from it start warm.

It reads nothing of our dbt project (each task reads the project as it is now), connects to
nothing (a parse needs no server) and never stops a worker from starting: a failed warm-up is
logged, and the tasks start cold as before.
"""

from __future__ import annotations

import gc
import logging
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# A project with one model and one test, so that parsing builds every kind of node a build has.
FILES = {
    "dbt_project.yml": "name: warm_up\nversion: '1.0'\nprofile: warm_up\nconfig-version: 2\n",
    "models/warm_up.sql": "select 1 as id\n",
    "models/warm_up.yml": (
        "version: 2\nmodels:\n  - name: warm_up\n    description: A model to parse.\n"
        "    columns:\n      - name: id\n        data_tests: [not_null]\n"
    ),
    # the adapter the pipeline uses; nothing connects (port 1 would refuse)
    "profiles.yml": (
        "warm_up:\n  target: parse\n  outputs:\n    parse:\n      type: postgres\n"
        "      host: 127.0.0.1\n      port: 1\n      user: warm_up\n      password: ''\n"
        "      dbname: warm_up\n      schema: warm_up\n      threads: 1\n"
    ),
}


def write_project(root: Path) -> Path:
    """The throwaway project's files under ``root`` (it parses without a server)."""
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def warm_up() -> bool:
    """Parse the throwaway project in a temporary folder; whether dbt said it succeeded."""
    try:
        from dbt.cli.main import dbtRunner

        with tempfile.TemporaryDirectory(prefix="liftoff-dbt-warm-up-") as tmp:
            root = write_project(Path(tmp))
            # everything named here, none of it from a DBT_* variable the worker may have
            places = [
                *("--project-dir", tmp, "--profiles-dir", tmp, "--profile", "warm_up", "--target", "parse"),
                *("--target-path", str(root / "target"), "--log-path", str(root / "logs")),
            ]
            flags = [
                *("--quiet", "--no-send-anonymous-usage-stats", "--log-level-file", "none"),
                "--partial-parse",  # whatever the worker's DBT_PARTIAL_PARSE says
            ]
            try:
                # twice: the second parse reads the first one's partial-parse file, as each
                # task's dbt call does (its readers are made on first use too)
                result = dbtRunner().invoke(["parse", *flags, *places])
                if result.success:
                    result = dbtRunner().invoke(["parse", *flags, *places])
            finally:
                _forget()
        if not result.success:
            log.warning("dbt's warm-up parse failed (%s): dbt tasks start cold", result.exception)
        return result.success
    except Exception:  # a worker starts either way
        log.warning("dbt's warm-up failed: dbt tasks start cold", exc_info=True)
        return False


def _forget() -> None:
    """Drop what the parse left that is about it, not about dbt's code: its adapter (and
    semaphore), the environment's metadata it read, its artifacts' paths; then collect, before
    a Celery worker freezes its heap (Cosmos cleans up after each of its dbt calls the same way)."""
    from dbt.adapters.factory import reset_adapters
    from dbt.utils.artifact_upload import PRODUCED_ARTIFACTS_PATHS
    from dbt_common.events.functions import reset_metadata_vars

    reset_adapters()
    reset_metadata_vars()
    PRODUCED_ARTIFACTS_PATHS.clear()
    gc.collect()


warm_up()
