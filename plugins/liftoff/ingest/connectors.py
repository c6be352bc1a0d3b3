"""Airbyte connectors from PyPI: each ``airbyte-source-X==V`` in a virtualenv of its own.

A connector's pins clash with Airflow's and with other connectors', so each pinned
version gets its own virtualenv, made by uv and cached per package and version under
``LIFTOFF_CONNECTORS_DIR`` (default ``~/.cache/liftoff/connectors``; the image's is
``/opt/liftoff/connectors``, filled at build time). A run never installs: a connector missing
there fails in one line naming the command that installs it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from liftoff.config import TELEMETRY_OFF, ConfigError, Settings, Unavailable

log = logging.getLogger(__name__)

# airbyte-source-<name>==<version>: a pin, as the image and every run must read the same code.
_PACKAGE = re.compile(r"(airbyte-source-[a-z0-9][a-z0-9-]*)==([0-9][0-9A-Za-z.+-]*)")
INSTALLED = ".liftoff-installed"  # written last: a virtualenv without it is an interrupted install


@dataclass(frozen=True)
class ConnectorPackage:
    """A pinned connector from PyPI, e.g. ``airbyte-source-s3==4.14.2``."""

    name: str
    version: str

    @classmethod
    def parse(cls, spec: str) -> ConnectorPackage:
        found = _PACKAGE.fullmatch(spec.strip())
        if found is None:
            raise ConfigError(
                f"connector {spec!r} is not a pinned Airbyte source from PyPI:"
                " write it as airbyte-source-NAME==VERSION (e.g. airbyte-source-stripe==5.14.1)"
            )
        return cls(found[1], found[2])

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def command(self) -> str:
        """The connector's entry point (its package's console script): ``source-s3``."""
        return self.name.removeprefix("airbyte-")

    def home(self, root: Path) -> Path:
        return root / f"{self.name}-{self.version}"

    def executable(self, root: Path) -> Path:
        return self.home(root) / "bin" / self.command

    def installed(self, root: Path) -> bool:
        return (self.home(root) / INSTALLED).is_file() and self.executable(root).is_file()


def uv_binary() -> str:
    """uv: beside this Python (the platform's virtualenv has it, pinned), else on the PATH."""
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise ConfigError("uv is not installed: it makes the connectors' virtualenvs (`pip install uv`)")
    return found


def install(package: ConnectorPackage, root: Path, *, python: str | None = None) -> Path:
    """Install ``package`` in its own virtualenv under ``root`` (once); return its executable.

    Built in its final place (a virtualenv's scripts name their Python by path) under a file
    lock, and marked installed last: an interrupted install is removed and made again. The
    bytecode is compiled now (this machine's and the image's Python write none at run time).
    """
    if package.installed(root):
        return package.executable(root)
    root.mkdir(parents=True, exist_ok=True)
    home = package.home(root)
    with open(root / f".{home.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two installs of one connector: the second waits, then finds it
        if package.installed(root):
            return package.executable(root)
        if home.exists():  # an interrupted install of before
            shutil.rmtree(home)
        uv = uv_binary()
        python = python or sys.executable  # the platform's Python (uv takes its base interpreter)
        env = {**_inherit(), **TELEMETRY_OFF, "UV_NO_PROGRESS": "1"}
        try:
            for args in (
                [uv, "venv", "--quiet", "--python", python, str(home)],
                [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python",
                 str(home / "bin" / "python"), str(package)],
            ):  # fmt: skip
                done = subprocess.run(args, capture_output=True, text=True, env=env)
                if done.returncode != 0:
                    said = (done.stderr or done.stdout).strip().splitlines()
                    reason = " ".join(line.strip() for line in said[-3:]) or f"exit {done.returncode}"
                    if "No solution found" in reason or "not found in the package registry" in reason:
                        raise ConfigError(f"cannot install {package}: {reason[:400]}")
                    raise Unavailable(f"cannot install {package}: {reason[:400]}")
            if not package.executable(root).is_file():
                raise ConfigError(
                    f"{package} installed no `{package.command}` command: is it an Airbyte source connector?"
                )
            (home / INSTALLED).write_text(f"{package}\n")
        except BaseException:
            shutil.rmtree(home, ignore_errors=True)
            raise
    log.info("installed %s in %s", package, home)
    return package.executable(root)


def _inherit() -> dict[str, str]:
    """What uv needs of this environment: the machine's, none of the task's secrets."""
    keep = (
        "HOME", "PATH", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR", "UV_INDEX_URL", "UV_CACHE_DIR",
        "PIP_INDEX_URL", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    )  # fmt: skip
    return {name: os.environ[name] for name in keep if name in os.environ}


def require_installed(package: ConnectorPackage, settings: Settings, source: str) -> Path:
    """The connector's executable, or a ConfigError naming the command that installs it."""
    root = settings.connectors_dir
    if not package.installed(root):
        raise ConfigError(
            f"connector {package} of source {source} is not installed in {root}:"
            f" run `liftoff sources install {source}` (the image runs it at build time)"
        )
    return package.executable(root)
