"""A built wheel holds every module of the product, and each imports from the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from liftoff.config import PROJECT_ROOT

UV = Path(sys.executable).with_name("uv")
PACKAGE_ROOTS = {  # import name -> source folder (pyproject.toml's package-dir)
    "liftoff": PROJECT_ROOT / "plugins" / "liftoff",
    "liftoff_contracts": PROJECT_ROOT / "include" / "contracts",
    "sales_api": PROJECT_ROOT / "tools" / "sales_api",
}
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info")
# Runs inside the Airbyte CDK's own virtualenv (ingest/local.py starts it there), not this one.
OTHER_INTERPRETER = {"liftoff.ingest.cdk_runner"}
IMPORT_ALL = """
import importlib, sys
root = sys.argv[1]
names = sorted(sys.argv[2:], key=lambda name: (name.startswith("sales_api"), name))
for name in names:
    if name == "sales_api":  # the product is imported whole by now: the demo APIs are apart
        assert "sales_api" not in sys.modules, "the product imports the demo API"
    module = importlib.import_module(name)
    assert module.__file__.startswith(root), (name, module.__file__)
print("imported", len(names))
"""


def source_modules() -> set[str]:
    found = set()
    for package, folder in PACKAGE_ROOTS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            found.add(".".join((package, *parts)).removesuffix(".__init__"))
    return found


def test_the_wheel_holds_and_imports_every_module(tmp_path: Path) -> None:
    source = tmp_path / "source"  # built from a copy: the build leaves no build/ in the work tree
    for folder in PACKAGE_ROOTS.values():
        shutil.copytree(folder, source / folder.relative_to(PROJECT_ROOT), ignore=IGNORED)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, source / name)
    built = subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--python", sys.executable, "--out-dir", str(tmp_path)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("*.whl")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
        in_wheel = {
            name.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            for name in archive.namelist()
            if name.endswith(".py")
        }
    assert in_wheel == source_modules(), "every module of the product is in the wheel"
    imported = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, str(unpacked), *sorted(in_wheel - OTHER_INTERPRETER)],
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert f"imported {len(in_wheel) - len(OTHER_INTERPRETER)}" in imported.stdout
