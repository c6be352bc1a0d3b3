"""docker-compose.yaml as the real Compose CLI reads it (built from source, no Docker engine
needed for `docker compose config`): valid for every profile with .env.example, refusing to
start without a secret, and configured by the original README's variables; .env.example read
as Compose reads it (no value a comment), one builder of our image, and a .env made by
`liftoff deployment env` that passes both Compose and deployment-check."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from liftoff.config import PROJECT_ROOT
from liftoff.deployment_env import check_env, secret_names
from tests.compose_cli import LIFTOFF, PROFILES, compose_binary, config, make_env, services_of

SECRETS = secret_names()  # every secret .env.example leaves to `make env`
THIS_MACHINE_ONLY = ("sales-api", "marquez", "marquez-web")  # published on 127.0.0.1 whatever the bind


@pytest.fixture(scope="module")
def compose() -> Path:
    return compose_binary()


@pytest.mark.parametrize("profiles", PROFILES, ids=lambda p: "+".join(p) or "default")
def test_compose_config_is_valid_for_every_profile(compose: Path, profiles: list[str]) -> None:
    done = config(compose, PROJECT_ROOT / ".env.example", *profiles)
    assert done.returncode == 0, done.stderr
    services = set(json.loads(done.stdout)["services"])
    assert {"airflow-apiserver", "airflow-worker", "warehouse", "kafka", "minio", "pgadmin"} <= services
    assert ("briefer" in services) == ("analytics" in profiles)
    assert ("pos-simulator" in services) == ("demo" in profiles)
    assert ({"marquez", "marquez-db", "marquez-web"} <= services) == ("lineage" in profiles)


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
    # Compose names the first reference it meets (its order varies): `${DB_PASS_PROD:?set DB_PASS_PROD}`
    # or `${DB_PASS_PROD:?}`; either way one line naming the variable
    assert done.returncode != 0, done.stderr
    assert "required variable DB_PASS_PROD is missing a value" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


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
    warehouse_service = services["warehouse"]["environment"]
    assert warehouse_service["POSTGRES_DB"] == "mydatabase"
    # the image's superuser is its own role; the owner is the init script's (no superuser)
    assert warehouse_service["POSTGRES_USER"] == "postgres" != warehouse_service["DB_USER_PROD"]
    assert warehouse_service["POSTGRES_PASSWORD"] != "password"
    assert (warehouse_service["DB_USER_PROD"], warehouse_service["DB_PASS_PROD"]) == ("user", "password")
    owner = services["airflow-init"]["environment"]["LIFTOFF_WAREHOUSE_URL"]
    assert owner == "postgresql://user:password@postgres:5432/mydatabase"
    assert services["pgadmin"]["environment"]["PGADMIN_DEFAULT_EMAIL"] == "email_pgadmin@example.com"
    assert services["pgadmin"]["environment"]["DB_NAME_PROD"] == "mydatabase"
    warehouse = services["airflow-scheduler"]["environment"]["AIRFLOW_CONN_WAREHOUSE"]
    assert warehouse.endswith("@postgres:5432/mydatabase") and warehouse.startswith("postgresql://pipeline:")


def test_no_value_is_a_comment_as_compose_reads_env_example(compose: Path) -> None:
    """compose-go reads `VAR=   # text` as "# text": the Fernet key was a comment once."""
    services = services_of(config(compose, PROJECT_ROOT / ".env.example", "demo", "analytics"))
    commented = [
        f"{name}.{key}"
        for name, service in services.items()
        for key, value in (service.get("environment") or {}).items()
        if str(value or "").lstrip().startswith("#")
    ]
    assert commented == []
    airflow = [
        name for name, s in services.items() if "AIRFLOW__CORE__EXECUTOR" in (s.get("environment") or {})
    ]
    assert len(airflow) == 6, airflow
    for name in airflow:
        environment = services[name]["environment"]
        for key in ("AIRFLOW__CORE__FERNET_KEY", "LIFTOFF_API_KEY", "LIFTOFF_ALERT_EMAIL_TO"):
            assert environment[key] == "", (name, key)
        assert environment["AIRFLOW_CONN_SMTP_DEFAULT"] == environment["LIFTOFF_ALERT_WEBHOOK_URL"] == ""
    assert services["deployment-check"]["environment"]["AIRFLOW_FERNET_KEY"] == ""


@pytest.mark.parametrize("profiles", PROFILES, ids=lambda p: "+".join(p) or "default")
def test_one_service_builds_the_image_every_other_of_ours_names(
    compose: Path, tmp_path: Path, profiles: list[str]
) -> None:
    services = services_of(config(compose, PROJECT_ROOT / ".env.example", *profiles))
    builders = {name: service["build"] for name, service in services.items() if "build" in service}
    assert list(builders) == ["deployment-check"]
    assert Path(builders["deployment-check"]["context"]) == PROJECT_ROOT
    image = services["deployment-check"]["image"]
    ours = {name for name, service in services.items() if service["image"] == image}
    assert {"airflow-init", "airflow-worker", "minio", "entry-app"} <= ours
    assert ("sales-api" in ours) == ("pos-simulator" in ours) == ("demo" in profiles)
    # a registry's tag: every one of them names it, none is left on the local tag
    env_file = tmp_path / ".env"
    env_file.write_text(
        (PROJECT_ROOT / ".env.example").read_text() + "LIFTOFF_IMAGE=registry.example.com/liftoff:1\n"
    )
    tagged = services_of(config(compose, env_file, *profiles))
    assert {name for name, s in tagged.items() if s["image"] == "registry.example.com/liftoff:1"} == ours
    assert not any("liftoff-data" in s["image"] for s in tagged.values())


def test_a_made_env_passes_compose_and_the_check_and_is_never_overwritten(
    compose: Path, tmp_path: Path
) -> None:

    env_file, made = make_env(tmp_path)
    text = env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "change-me" not in text
    for name in SECRETS:
        assert name in made.stdout
        assert re.search(rf"^{name}=(\S+)$", text, re.MULTILINE), name
    for profiles in PROFILES:
        services = services_of(config(compose, env_file, *profiles))
        keys = {
            value
            for service in services.values()
            for key, value in (service.get("environment") or {}).items()
            if key in {"AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_FERNET_KEY"}
        }
        assert len(keys) == 1, "one key, shared by every component"
        (key,) = keys
        Fernet(key.encode())  # valid: the deferrals stored in the metadata database decrypt
        assert check_env(services["deployment-check"]["environment"]) == []

    again = subprocess.run(
        [LIFTOFF, "deployment", "env", "--output", str(env_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode != 0 and "--force" in again.stderr, again.stderr
    assert env_file.read_text() == text and stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_deployment_check_refuses_the_placeholders_compose_lets_through(compose: Path) -> None:
    """`${VAR:?}` takes `change-me-…`; deployment-check, which every service of a secret waits
    for, gets each under its .env name and refuses it, one line each."""
    services = services_of(config(compose, PROJECT_ROOT / ".env.example"))
    check = services["deployment-check"]
    assert check["command"] == ["bash", "-c", "exec liftoff deployment check"]
    problems = check_env(check["environment"])
    assert sorted(line.split()[0] for line in problems) == sorted(set(SECRETS) - {"AIRFLOW_FERNET_KEY"})
    for name in ("warehouse", "airflow-postgres", "minio", "airflow-init"):
        assert (
            services[name]["depends_on"]["deployment-check"]["condition"] == "service_completed_successfully"
        )


def published(services: dict[str, dict]) -> dict[str, set[str]]:
    """Each service's published ports' host addresses, as Compose resolves them."""
    return {
        name: {port.get("host_ip", "") for port in service["ports"]}
        for name, service in services.items()
        if service.get("ports")
    }


def test_every_published_port_binds_to_the_bind_address(compose: Path, tmp_path: Path) -> None:
    """127.0.0.1 unless LIFTOFF_BIND_ADDRESS says otherwise; the demo API's and Marquez's always."""
    example = (PROJECT_ROOT / ".env.example").read_text()
    services = services_of(config(compose, PROJECT_ROOT / ".env.example", "demo", "analytics", "lineage"))
    addresses = published(services)
    assert {"warehouse", "minio", "entry-app", "pgadmin", "briefer", "airflow-apiserver", "sales-api"} <= set(
        addresses
    )
    assert all(hosts == {"127.0.0.1"} for hosts in addresses.values()), addresses
    # unset in .env: Compose's default is still this machine only
    unset = tmp_path / "unset.env"
    unset.write_text(
        "\n".join(line for line in example.splitlines() if not line.startswith("LIFTOFF_BIND_ADDRESS="))
    )
    assert all(
        hosts == {"127.0.0.1"} for hosts in published(services_of(config(compose, unset, "demo"))).values()
    )
    # a team's choice, made knowingly: every port but the demo API's
    everywhere = tmp_path / "everywhere.env"
    everywhere.write_text(example.replace("LIFTOFF_BIND_ADDRESS=127.0.0.1", "LIFTOFF_BIND_ADDRESS=0.0.0.0"))
    opened = published(services_of(config(compose, everywhere, "demo", "analytics", "lineage")))
    for name in THIS_MACHINE_ONLY:  # no login in front of them
        assert opened.pop(name) == {"127.0.0.1"}, name
    assert all(hosts == {"0.0.0.0"} for hosts in opened.values()), opened


def test_the_warehouse_runs_the_owner_init_script_and_briefer_knows_about_http(compose: Path) -> None:
    services = services_of(config(compose, PROJECT_ROOT / ".env.example", "analytics"))
    warehouse = services["warehouse"]
    targets = {volume["target"]: volume for volume in warehouse["volumes"]}
    script = targets["/docker-entrypoint-initdb.d/init-owner.sh"]
    assert script["type"] == "bind" and script["read_only"]
    assert Path(script["source"]) == PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sh"
    sql_file = targets[warehouse["environment"]["LIFTOFF_INIT_OWNER_SQL"]]
    assert Path(sql_file["source"]) == PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sql"
    assert warehouse["environment"]["POSTGRES_USER"] != warehouse["environment"]["DB_USER_PROD"]
    assert services["briefer"]["environment"]["ALLOW_HTTP"] == "false"


def test_kafka_has_an_external_sasl_listener_for_the_terminals(compose: Path, tmp_path: Path) -> None:
    """Issue #25 item 5, as Compose resolves it from a made .env: EXTERNAL advertised on the
    variable host and port, published on the bind address, SASL (SCRAM-SHA-512) required and
    the terminals' password from .env; the internal listener as Airflow knows it."""
    env_file, _ = make_env(tmp_path)
    text = env_file.read_text()
    password = re.search(r"^LIFTOFF_POS_KAFKA_PASSWORD=(\S+)$", text, re.MULTILINE).group(1)
    assert "change-me" not in password

    def kafka_of(env_text: str) -> dict:
        path = tmp_path / "kafka.env"
        path.write_text(env_text)
        done = config(compose, path)
        assert done.returncode == 0, done.stderr
        return services_of(done)["kafka"]

    kafka = kafka_of(text)
    environment = kafka["environment"]
    assert environment["KAFKA_ADVERTISED_LISTENERS"] == (
        "INTERNAL://kafka:9092,EXTERNAL://localhost:9094,LOCAL://localhost:9095"
    )
    protocols = dict(
        item.split(":") for item in environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert protocols["EXTERNAL"] == protocols["INTERNAL"] == "SASL_PLAINTEXT"
    assert protocols["LOCAL"] == protocols["CONTROLLER"] == "PLAINTEXT"  # on 127.0.0.1 only
    assert environment["KAFKA_LISTENER_NAME_EXTERNAL_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert environment["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert environment["LIFTOFF_POS_KAFKA_USER"] == "pos-terminal"
    assert environment["LIFTOFF_POS_KAFKA_PASSWORD"] == password
    platform_password = re.search(r"^LIFTOFF_KAFKA_PASSWORD=(\S+)$", text, re.MULTILINE).group(1)
    assert "change-me" not in platform_password and platform_password != password
    assert environment["LIFTOFF_KAFKA_USER"] == "liftoff-platform"
    assert environment["LIFTOFF_KAFKA_PASSWORD"] == platform_password
    assert environment["KAFKA_SUPER_USERS"] == "User:ANONYMOUS;User:liftoff-platform"
    (port,) = kafka["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "9094", 9094)
    assert kafka["depends_on"]["deployment-check"]["condition"] == "service_completed_successfully"
    services = services_of(config(compose, env_file, "demo"))
    airflow = services["airflow-scheduler"]
    # the connection's extra, JSON as Compose resolves it: the platform's login (librdkafka's keys)
    assert json.loads(airflow["environment"]["AIRFLOW_CONN_KAFKA"])["extra"] == {
        "bootstrap.servers": "kafka:9092",
        "group.id": "liftoff-watchers",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "liftoff-platform",
        "sasl.password": platform_password,
    }
    # kafka-init is gone: its topic is the kafka service's, made before it is healthy
    assert "kafka-init" not in services
    assert airflow["depends_on"]["kafka"]["condition"] == "service_healthy"
    simulator = services["pos-simulator"]
    assert simulator["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "--sasl-username=pos-terminal" in simulator["command"]
    assert simulator["environment"]["LIFTOFF_POS_KAFKA_PASSWORD"] == password
    assert not any(password in part for part in simulator["command"])

    # a team's host name, port and address
    moved = kafka_of(
        text.replace("KAFKA_EXTERNAL_HOST=localhost", "KAFKA_EXTERNAL_HOST=kafka.shop.example.com")
        .replace("KAFKA_EXTERNAL_PORT=9094", "KAFKA_EXTERNAL_PORT=19094")
        .replace("LIFTOFF_BIND_ADDRESS=127.0.0.1", "LIFTOFF_BIND_ADDRESS=10.0.0.5")
    )
    assert ",EXTERNAL://kafka.shop.example.com:19094," in moved["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    (port,) = moved["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("10.0.0.5", "19094", 9094)
    # no password: Compose refuses to start it, naming the variable
    path = tmp_path / "no-password.env"
    path.write_text(re.sub(r"^LIFTOFF_POS_KAFKA_PASSWORD=.*$", "", text, flags=re.MULTILINE))
    refused = config(compose, path)
    assert refused.returncode != 0 and "LIFTOFF_POS_KAFKA_PASSWORD" in refused.stderr
    path.write_text(re.sub(r"^LIFTOFF_KAFKA_PASSWORD=.*$", "", text, flags=re.MULTILINE))
    refused = config(compose, path)
    assert refused.returncode != 0 and "LIFTOFF_KAFKA_PASSWORD" in refused.stderr


def test_a_env_into_a_missing_folder_says_so_in_one_line(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / ".env"
    done = subprocess.run(
        [LIFTOFF, "deployment", "env", "--output", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: {target}: No such file or directory (nothing written)"
    ]
    assert "Traceback" not in done.stdout + done.stderr


def test_the_lineage_profile_runs_marquez_and_the_components_send_it_their_events(
    compose: Path, tmp_path: Path
) -> None:
    """`--profile lineage` with OPENLINEAGE_URL=http://marquez:5000 in .env: every Airflow
    component sends to Marquez; Marquez reads its database's password from its environment
    (tools/marquez/marquez.yml names none), the one `make env` gave its database."""
    env_file, _ = make_env(tmp_path)
    env_file.write_text(
        env_file.read_text().replace("OPENLINEAGE_URL=\n", "OPENLINEAGE_URL=http://marquez:5000\n")
    )
    services = services_of(config(compose, env_file, "lineage"))
    password = re.search(r"^MARQUEZ_DB_PASSWORD=(\S+)$", env_file.read_text(), re.MULTILINE).group(1)
    assert services["marquez-db"]["environment"]["POSTGRES_PASSWORD"] == password
    assert services["marquez"]["environment"]["POSTGRES_PASSWORD"] == password
    assert services["marquez"]["depends_on"]["marquez-db"]["condition"] == "service_healthy"
    mounted = {v["target"]: v for v in services["marquez"]["volumes"]}
    configuration = mounted[services["marquez"]["environment"]["MARQUEZ_CONFIG"]]
    assert (
        configuration["read_only"]
        and Path(configuration["source"]) == PROJECT_ROOT / "tools/marquez/marquez.yml"
    )
    text = Path(configuration["source"]).read_text()
    assert "password: ${POSTGRES_PASSWORD}" in text and "marquez-db" in text
    assert services["marquez-web"]["environment"]["MARQUEZ_HOST"] == "marquez"
    airflow = [n for n, s in services.items() if "AIRFLOW__CORE__EXECUTOR" in (s.get("environment") or {})]
    assert len(airflow) == 6, airflow
    assert {services[n]["environment"]["OPENLINEAGE_URL"] for n in airflow} == {"http://marquez:5000"}
