"""docs/helm/values.yaml, the Kubernetes values docs/deployment.md shows, is valid for the official
Airflow Helm chart and gives the components what docker-compose.yaml gives them.

The chart's schema is vendored: tests/fixtures/helm/airflow-<version>.values.schema.json (its
source and version: the README.md beside it). It is validated with jsonschema (Draft 7, as the
chart declares), offline: `#/definitions/...` references resolve inside the file, and a remote
`$ref` (none in the vendored file today; Kubernetes definitions in some chart versions) resolves
to `{}`, accepting anything there, so the test never reaches the network.

The chart's schema allows unknown top-level keys, so a key from another chart version (Airflow
2's `webserverSecretKeySecretName` beside Airflow 3's `apiSecretKeySecretName`) would pass it:
the test also requires every top-level key to be one the schema names, and the Airflow 3 ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from liftoff.config import PROJECT_ROOT
from liftoff.local.airflow_deployment import TASK_TIMING

VALUES_FILE = PROJECT_ROOT / "docs" / "helm" / "values.yaml"
SCHEMAS = sorted((PROJECT_ROOT / "tests" / "fixtures" / "helm").glob("airflow-*.values.schema.json"))
VALUES = yaml.safe_load(VALUES_FILE.read_text())
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
# The services whose environment the chart's scheduler and workers must match.
COMPOSE_SERVICES = ("airflow-scheduler", "airflow-worker")
SECRET_VALUE = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY\b|WEBHOOK", re.IGNORECASE)


def validator(schema: dict) -> jsonschema.Draft7Validator:
    """A Draft 7 validator that never fetches: unknown remote references are `{}`."""

    def retrieve(uri: str) -> Resource:
        return Resource.from_contents({}, default_specification=DRAFT7)

    return jsonschema.Draft7Validator(schema, registry=Registry(retrieve=retrieve))


def compose_environment(service: str) -> dict[str, str]:
    environment = COMPOSE["services"][service].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def compose_variables() -> dict[str, str]:
    """LIFTOFF_* and AIRFLOW_CONN_* of the scheduler and the workers, with compose's values."""
    found: dict[str, str] = {}
    for service in COMPOSE_SERVICES:
        for name, value in compose_environment(service).items():
            if name.startswith(("LIFTOFF_", "AIRFLOW_CONN_")):
                found[name] = value
    return found


def helm_env() -> dict[str, str]:
    return {item["name"]: item["value"] for item in VALUES.get("env", [])}


def helm_secrets() -> dict[str, dict]:
    return {item["envName"]: item for item in VALUES.get("secret", [])}


def test_a_schema_is_vendored() -> None:
    assert SCHEMAS, "tests/fixtures/helm/airflow-<version>.values.schema.json is missing"
    assert (PROJECT_ROOT / "tests" / "fixtures" / "helm" / "README.md").exists()


@pytest.mark.parametrize("schema_file", SCHEMAS, ids=lambda path: path.name)
def test_values_are_valid_for_the_chart(schema_file: Path) -> None:
    schema = json.loads(schema_file.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(validator(schema).iter_errors(VALUES), key=lambda error: list(error.path))
    report = "\n".join(f"{'.'.join(map(str, error.path)) or '<root>'}: {error.message}" for error in errors)
    assert not errors, f"docs/helm/values.yaml against {schema_file.name}:\n{report}"
    unknown = sorted(set(VALUES) - set(schema["properties"]))
    assert not unknown, f"keys the chart's schema does not name: {unknown}"


@pytest.mark.parametrize("schema_file", SCHEMAS, ids=lambda path: path.name)
def test_the_validation_catches_mistakes(schema_file: Path) -> None:
    """The same check fails values with a wrong type or a literal secret in `env` form."""
    schema = json.loads(schema_file.read_text())
    broken = dict(VALUES, executor="celery", secret=[{"envName": "X", "secretName": "s", "value": "x"}])
    messages = [error.message for error in validator(schema).iter_errors(broken)]
    assert any("does not match" in message for message in messages), messages
    assert any("'value'" in message for message in messages), messages


def test_airflow_3_secret_keys_from_kubernetes_secrets() -> None:
    """Airflow 3's keys (not the webserver's), each from a Secret: never made anew on upgrade."""
    for key in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName"):
        assert VALUES.get(key), f"{key} is not set"
    for literal in (
        "fernetKey",
        "apiSecretKey",
        "jwtSecret",
        "webserverSecretKey",
        "webserverSecretKeySecretName",
    ):
        assert literal not in VALUES, f"{literal}: Airflow 2's, or a secret written into the values"
    assert VALUES["data"].get("metadataSecretName")
    assert VALUES["postgresql"]["enabled"] is False


def test_same_image_and_executor_as_compose() -> None:
    requirements = (PROJECT_ROOT / "requirements.txt").read_text()
    airflow = re.search(r"^apache-airflow==(\S+)$", requirements, re.MULTILINE)
    assert airflow and VALUES["airflowVersion"] == airflow.group(1)
    executors = {compose_environment(service).get("AIRFLOW__CORE__EXECUTOR") for service in COMPOSE_SERVICES}
    assert executors == {VALUES["executor"]}
    assert VALUES["config"]["core"]["dags_folder"] == "/opt/liftoff/dags"
    assert VALUES["config"]["core"]["plugins_folder"] == "/opt/liftoff/plugins"
    for variable, value in TASK_TIMING.items():  # AIRFLOW__<SECTION>__<KEY>, as liftoff airflow sets it
        section, key = variable.lower().split("__")[1:]
        assert str(VALUES["config"][section][key]) == value, variable


def test_every_compose_variable_is_set() -> None:
    """The LIFTOFF_* variables and connections compose gives the scheduler and the workers."""
    expected = compose_variables()
    assert "LIFTOFF_ARCHIVE_URL" in expected and "AIRFLOW_CONN_WAREHOUSE" in expected, expected
    given = set(helm_env()) | set(helm_secrets())
    missing = sorted(set(expected) - given)
    assert not missing, f"docs/helm/values.yaml lacks what docker-compose.yaml sets: {missing}"
    both = sorted(set(helm_env()) & set(helm_secrets()))
    assert not both, f"both in env and in secret: {both}"


def test_secrets_come_from_secret_key_refs() -> None:
    """A variable whose compose value carries a credential, and every connection, is a
    `secret` entry (rendered as secretKeyRef), never a literal `env` value."""
    for name, value in compose_variables().items():
        credential = name.startswith("AIRFLOW_CONN_") or bool(SECRET_VALUE.search(name + " " + value))
        if credential:
            assert name in helm_secrets(), f"{name} holds a credential: a `secret` entry, not `env`"
    for entry in helm_secrets().values():
        assert entry.get("secretName") and entry.get("secretKey"), entry


def test_telemetry_stays_off() -> None:
    telemetry = {}
    for line in (PROJECT_ROOT / "plugins" / "liftoff" / "telemetry.env").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            telemetry[name] = value
    assert telemetry and {name: helm_env().get(name) for name in telemetry} == telemetry


def test_the_deployment_doc_shows_these_values() -> None:
    """docs/deployment.md shows the file in full: the two never differ."""
    doc = (PROJECT_ROOT / "docs" / "deployment.md").read_text()
    assert f"```yaml\n{VALUES_FILE.read_text()}```" in doc
    assert "webserverSecretKeySecretName:" not in doc
