"""docker-compose.yaml as the real Compose CLI reads it (`make compose` builds the CLI; no Docker
engine is needed for `config`), and its commands (healthchecks, airflow-init's script) as
processes on this machine.

A service's commands run here against a local stand-in of each service they reach (the
tests' PostgreSQL, Redis, MinIO, broker, Airflow components): the command is the resolved
one, character for character, except for what a test moves and says it moves (a container
port to the stand-in's free port, a path of the image to the checkout's); each move must
match, so a changed command fails the test instead of running unmoved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liftoff.config import PROJECT_ROOT
from tests.conftest import IN_CI

VERSION = re.search(
    r"^COMPOSE_VERSION := (\S+)$", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE
).group(1)
DEFAULT_BIN = Path.home() / ".cache" / "liftoff" / f"compose-{VERSION}" / "docker-compose"  # `make compose`
PROFILES = ([], ["demo"], ["analytics"], ["lineage"], ["demo", "analytics"])
LIFTOFF = str(Path(sys.executable).with_name("liftoff"))
# The compose network's host names: a value naming one must be moved to a stand-in to run here.
SERVICE_HOSTS = (
    "warehouse", "postgres", "airflow-postgres", "redis", "minio", "kafka", "airflow-apiserver", "sales-api",
    "marquez", "marquez-db",
)  # fmt: skip


def compose_binary() -> Path:
    """The Compose CLI; CI fails without it, elsewhere the test is skipped saying why."""
    binary = Path(os.environ.get("LIFTOFF_COMPOSE_BIN", DEFAULT_BIN))
    if not binary.exists():
        reason = f"no Compose CLI at {binary}: make compose (Go) builds it"
        if IN_CI:
            pytest.fail(f"CI must build the Compose CLI: {reason}")
        pytest.skip(reason)
    return binary


def config(compose: Path, env_file: Path, *profiles: str, fmt: str = "json") -> subprocess.CompletedProcess:
    """`docker compose --env-file ENV [--profile P]… config`, nothing of this shell's settings in."""
    args = [str(compose), "-f", "docker-compose.yaml", "--env-file", str(env_file)]
    for profile in profiles:
        args += ["--profile", profile]
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DB_", "LIFTOFF_", "AIRFLOW", "PGADMIN"))
    }
    return subprocess.run(
        [*args, "config", "--format", fmt],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def services_of(done: subprocess.CompletedProcess) -> dict[str, dict]:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["services"]


def make_env(folder: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """A `.env` in ``folder`` as `liftoff deployment env` writes it (a process of its own)."""
    env_file = folder / ".env"
    made = subprocess.run(
        [LIFTOFF, "deployment", "env", "--output", str(env_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    return env_file, made


def team_services(folder: Path) -> dict[str, dict]:
    """Every service of every profile as Compose resolves it with a `make env` .env."""
    folder.mkdir(parents=True, exist_ok=True)
    env_file, _ = make_env(folder)
    return services_of(config(compose_binary(), env_file, *{p for ps in PROFILES for p in ps}))


def moved(text: str, moves: dict[str, str]) -> str:
    """``text`` with each ``old`` of ``moves`` replaced by its new value; each must occur."""
    for old, new in moves.items():
        assert old in text, f"{old!r} is not in {text!r}: the command changed, move it again"
        text = text.replace(old, new)
    return text


def as_run(text: str, moves: dict[str, str] | None = None) -> str:
    """A command's text as the container gets it: `config` keeps Compose's ``$$`` (a literal
    ``$``) escaped for another reading; then ``moves``."""
    return moved(text.replace("$$", "$"), moves or {})


def healthcheck(services: dict[str, dict], name: str, moves: dict[str, str] | None = None) -> list[str]:
    """The argv Docker runs for ``name``'s healthcheck (CMD as is, CMD-SHELL through /bin/sh)."""
    kind, *command = services[name]["healthcheck"]["test"]
    command = [as_run(part) for part in command]
    for old, new in (moves or {}).items():
        assert any(old in part for part in command), f"{old!r} is not in {name}'s healthcheck {command}"
        command = [part.replace(old, new) for part in command]
    if kind == "CMD-SHELL":
        (line,) = command
        return ["/bin/sh", "-c", line]
    assert kind == "CMD", services[name]["healthcheck"]["test"]
    return command


def run_healthcheck(
    services: dict[str, dict],
    name: str,
    env: dict[str, str],
    moves: dict[str, str] | None = None,
    *,
    attempts: int | None = None,
    pause: float = 2.0,
) -> subprocess.CompletedProcess:
    """``name``'s healthcheck as a process with ``env``, as Docker judges it: healthy at the first
    pass, unhealthy after its ``retries`` failures in a row (``attempts``: 1 for a check a test
    expects to fail; ``pause`` between, not the service's interval). Each run has a minute: a
    busy test machine answers later than a deployment's own timeout."""
    argv = healthcheck(services, name, moves)
    # the image's PATH has its Python's scripts (airflow, celery): here, this interpreter's
    env = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    for _ in range(attempts or services[name]["healthcheck"].get("retries", 3)):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            break
        time.sleep(pause)
    return done
