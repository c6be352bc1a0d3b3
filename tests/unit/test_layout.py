"""The local runtime stays apart: what Airflow runs (the DAG files, the tasks, the team
deployment's workers) and the apps never import ``liftoff.local``, the package that starts
PostgreSQL, Kafka, the demo API and Airflow on one machine. Only the ``liftoff`` command
(``liftoff.cli``) and the tests drive it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from liftoff.config import PROJECT_ROOT
from tests.unit.test_packaging import OTHER_INTERPRETER, source_modules

LOCAL = "liftoff.local"
PACKAGE = PROJECT_ROOT / "plugins" / "liftoff"
DRIVERS = ("liftoff.cli",)  # the command, and the modules under it
IMPORT_PRODUCTION = """
import importlib, runpy, sys
dag_files, names = sys.argv[1].split(","), sys.argv[2:]
for name in names:
    importlib.import_module(name)
for path in dag_files:
    runpy.run_path(path)
print("local modules loaded:", *sorted(n for n in sys.modules if n.split(".")[:2] == ["liftoff", "local"]))
"""


def production_modules() -> list[str]:
    return sorted(
        name
        for name in source_modules()
        if name.startswith("liftoff")
        and not name.startswith((LOCAL, *DRIVERS))
        and name not in OTHER_INTERPRETER
    )


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, wherever the import stands (a function's too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def production_files() -> list[Path]:
    files = [*(PROJECT_ROOT / "dags").glob("*.py"), *(PROJECT_ROOT / "apps").rglob("*.py")]
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(("liftoff", *path.relative_to(PACKAGE).with_suffix("").parts))
        if not name.startswith((LOCAL, *DRIVERS)):
            files.append(path)
    return files


def test_no_production_file_imports_the_local_runtime() -> None:
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(n for n in imported_names(path) if n.startswith(LOCAL))
        for path in production_files()
    }
    assert len(offenders) > 50, "the scan saw the package, the DAGs and the apps"
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_dags_and_every_production_module_load_without_it() -> None:
    modules = production_modules()
    assert "liftoff.pipeline" in modules and "liftoff.celery_config" in modules
    dag_files = ",".join(str(path) for path in sorted((PROJECT_ROOT / "dags").glob("*.py")))
    loaded = subprocess.run(
        [sys.executable, "-c", IMPORT_PRODUCTION, dag_files, *modules],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    [report] = [line for line in loaded.stdout.splitlines() if line.startswith("local modules loaded:")]
    assert report.split(":")[1].split() == [], "imported by a production module or a DAG file"


def test_the_scan_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def start():\n    from liftoff.local import services\n")
    assert "liftoff.local.services" in imported_names(planted)
