"""docker-compose.yaml as the real Compose CLI reads it (built from source, no Docker engine
needed for `docker compose config`): valid for every profile with .env.example, refusing to
start without a secret, and configured by the original README's variables."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from liftoff.config import PROJECT_ROOT
from tests.conftest import IN_CI

VERSION = re.search(
    r"^COMPOSE_VERSION := (\S+)$", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE
).group(1)
DEFAULT_BIN = Path.home() / ".cache" / "liftoff" / f"compose-{VERSION}" / "docker-compose"  # `make compose`
PROFILES = ([], ["demo"], ["analytics"], ["demo", "analytics"])


@pytest.fixture(scope="module")
def compose() -> Path:
    binary = Path(os.environ.get("LIFTOFF_COMPOSE_BIN", DEFAULT_BIN))
    if not binary.exists():
        reason = f"no Compose CLI at {binary}: make compose (Go) builds it"
        if IN_CI:
            pytest.fail(f"CI must build the Compose CLI: {reason}")
        pytest.skip(reason)
    return binary


def config(compose: Path, env_file: Path, *profiles: str, fmt: str = "json") -> subprocess.CompletedProcess:
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


@pytest.mark.integration
@pytest.mark.parametrize("profiles", PROFILES, ids=lambda p: "+".join(p) or "default")
def test_compose_config_is_valid_for_every_profile(compose: Path, profiles: list[str]) -> None:
    done = config(compose, PROJECT_ROOT / ".env.example", *profiles)
    assert done.returncode == 0, done.stderr
    services = set(json.loads(done.stdout)["services"])
    assert {"airflow-apiserver", "airflow-worker", "warehouse", "kafka", "minio", "pgadmin"} <= services
    assert ("briefer" in services) == ("analytics" in profiles)
    assert ("pos-simulator" in services) == ("demo" in profiles)


@pytest.mark.integration
def test_a_missing_secret_stops_it_in_one_line(compose: Path, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(
            line
            for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
            if not line.startswith("DB_PASS_PROD")
        )
    )
    done = config(compose, env_file)
    assert done.returncode != 0 and "set DB_PASS_PROD" in done.stderr, done.stderr


@pytest.mark.integration
def test_the_original_readme_variables_configure_the_warehouse(compose: Path, tmp_path: Path) -> None:
    """The original README's .env lines, as written there (spaces around `=`)."""
    original = {
        "DB_HOST_PROD": "postgres",
        "DB_PORT_PROD": "5432",
        "DB_NAME_PROD": "mydatabase",
        "DB_USER_PROD": "user",
        "DB_PASS_PROD": "password",
        "PGADMIN_EMAIL": "email_pgadmin@example.com",
        "PGADMIN_PASSWORD": "password_pgadmin",
    }
    lines = [
        line
        for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if line.split("=")[0] not in original
    ]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join([*lines, *(f"{key} = {value}" for key, value in original.items())]) + "\n")
    done = config(compose, env_file)
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    assert services["warehouse"]["environment"]["POSTGRES_DB"] == "mydatabase"
    assert services["warehouse"]["environment"]["POSTGRES_USER"] == "user"
    assert services["pgadmin"]["environment"]["PGADMIN_DEFAULT_EMAIL"] == "email_pgadmin@example.com"
    warehouse = services["airflow-scheduler"]["environment"]["AIRFLOW_CONN_WAREHOUSE"]
    assert warehouse.endswith("@postgres:5432/mydatabase") and warehouse.startswith("postgresql://pipeline:")
