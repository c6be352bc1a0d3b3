"""Tests are marked by folder (tests/conftest.py): every test under integration/, entry/ and
dbt/ is an integration test, none under unit/ or dags/."""

from __future__ import annotations

import subprocess
import sys

from liftoff.config import PROJECT_ROOT


def collected(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 5), done.stdout[-2000:] + done.stderr[-2000:]  # 5: none collected
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_integration_is_the_folder_not_a_line_each_file_must_remember() -> None:
    folders = ["integration", "entry", "dbt"]
    marked = collected("-m", "integration", *(f"tests/{f}" for f in [*folders, "unit", "dags"]))
    files = {test.split("::")[0] for test in marked}
    assert files == {
        str(p.relative_to(PROJECT_ROOT))
        for f in folders
        for p in (PROJECT_ROOT / "tests" / f).glob("test_*.py")
    }
