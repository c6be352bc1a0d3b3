"""The team deployment's own commands run, as processes, against real stand-ins of its services:
airflow-init's script (twice: it runs at every `docker compose up`) on a fresh metadata
database, a warehouse whose owner tools/warehouse/init-owner.sh made and a MinIO started with
the compose file's root credentials; and the healthchecks of the warehouse, the metadata
database, Redis, MinIO and the demo API. The Airflow components' healthchecks run against
the Celery cluster of tests/integration/test_backfill.py, Kafka's against the broker of
tests/integration/test_kafka_external.py, the entry app's against the app in
tests/entry/test_entry_login.py.

Every command is Compose's resolved one (`config --format json` with a `make env` .env),
with only the moves each test names (tests/compose_cli.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from liftoff.archive.store import MinioStore
from liftoff.config import PROJECT_ROOT
from liftoff.warehouse.location import Warehouse
from tests.compose_cli import (
    LIFTOFF,
    SERVICE_HOSTS,
    as_run,
    healthcheck,
    moved,
    run_healthcheck,
    team_services,
)
from tests.conftest import IN_CI
from tests.integration.conftest import Team
from tests.minio_server import MinioServer, minio_binary

# Where each service's healthcheck runs as a process; the one left out says why.
RUN_BY = {
    "warehouse": "tests/integration/test_compose_commands.py",
    "airflow-postgres": "tests/integration/test_compose_commands.py",
    "marquez-db": "tests/integration/test_compose_commands.py",
    "redis": "tests/integration/test_compose_commands.py",
    "minio": "tests/integration/test_compose_commands.py",
    "sales-api": "tests/integration/test_compose_commands.py",
    "airflow-apiserver": "tests/integration/test_backfill.py",
    "airflow-scheduler": "tests/integration/test_backfill.py",
    "airflow-dag-processor": "tests/integration/test_backfill.py",
    "airflow-triggerer": "tests/integration/test_backfill.py",
    "airflow-worker": "tests/integration/test_backfill.py",
    "kafka": "tests/integration/test_kafka_external.py",
    "entry-app": "tests/entry/test_entry_login.py",
}
NOT_RUN = {"pgadmin": "pgAdmin's image's own ping route; pgAdmin does not run on this machine"}
# a host name of the compose network followed by its port or a path
HOST_NAMED = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, SERVICE_HOSTS)) + r")(?::\d|/)")
# a URL's user and password: "postgres:5…" there is a user and a password, not a host and port
USERINFO = re.compile(r"//[^/@\s]*@")


def names_compose_host(value: str) -> bool:
    """Whether a value names a host of the compose network, read in its hosts only."""
    return HOST_NAMED.search(USERINFO.sub("//", value)) is not None


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return team_services(tmp_path_factory.mktemp("compose"))


def base_env(home: Path) -> dict[str, str]:
    """What the image gives every process: its PATH, a home; the Dockerfile's ENV moved to the
    checkout. Nothing of the test process's own settings."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "LIFTOFF_MINIO_BIN")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["PATH"] = f"{Path(LIFTOFF).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        AIRFLOW_HOME=str(home / "airflow"),
        LIFTOFF_HOME=str(home / "liftoff"),
        LIFTOFF_ENV_FILE="",
        AIRBYTE_OFFLINE_MODE="1",
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PROJECT_ROOT / "plugins"),
    )
    return env


def test_every_healthcheck_runs_as_a_process_somewhere(services: dict[str, dict]) -> None:
    checked = {name for name, service in services.items() if service.get("healthcheck")}
    assert checked == set(RUN_BY) | set(NOT_RUN)
    for name, test_file in RUN_BY.items():
        source = (PROJECT_ROOT / test_file).read_text()
        assert re.search(rf'healthcheck\(\s*\w+,\s*"{re.escape(name)}"', source), (name, test_file)


@pytest.fixture
def root_minio(services: dict[str, dict], tmp_path: Path) -> Iterator[MinioServer]:
    """MinIO as the minio service starts it: the compose file's root credentials."""
    if minio_binary() is None:
        reason = "no MinIO binary: make minio"
        if IN_CI:
            pytest.fail(f"CI must provide MinIO: {reason}")
        pytest.skip(reason)
    root = services["minio"]["environment"]
    minio = MinioServer(
        minio_binary(), tmp_path / "minio", root["MINIO_ROOT_USER"], root["MINIO_ROOT_PASSWORD"]
    )
    minio.start()
    yield minio
    minio.stop()


def test_airflow_init_runs_at_every_up_against_fresh_services(
    services: dict[str, dict],
    team: Team,
    database_factory,
    redis_server: str,
    root_minio: MinioServer,
    tmp_path: Path,
) -> None:
    minio = root_minio
    init = services["airflow-init"]
    resolved = init["environment"]
    assert init["command"][:2] == ["bash", "-c"]
    script = as_run(init["command"][2], {"/opt/airflow/logs": str(tmp_path / "logs")})
    (tmp_path / "logs").mkdir()  # the airflow-logs volume, root's when new

    # the warehouse as its first start leaves it: init-owner.sh with the .env's owner password
    team.owner_password = services["warehouse"]["environment"]["DB_PASS_PROD"]
    made = team.init_owner()
    assert made.returncode == 0, made.stdout + made.stderr
    metadata = database_factory("airflow_init")
    bucket = f"archive-{uuid.uuid4().hex[:8]}"
    local = Warehouse(
        team.superuser.host, team.superuser.port, team.database, team.owner, team.owner_password
    )
    host = f"{local.host}:{local.port}"
    metadata_url = metadata.url.removeprefix("postgresql://")
    airflow_db = f"airflow:{services['airflow-postgres']['environment']['POSTGRES_PASSWORD']}"
    moves = {
        "LIFTOFF_WAREHOUSE_URL": {
            "//liftoff:": f"//{team.owner}:",
            "@postgres:5432/liftoff": f"@{host}/{team.database}",
        },
        "AIRFLOW_CONN_WAREHOUSE": {
            "//pipeline:": f"//{team.roles['pipeline']}:",
            "@postgres:5432/liftoff": f"@{host}/{team.database}",
        },
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": {f"{airflow_db}@airflow-postgres/airflow": metadata_url},
        "AIRFLOW__CELERY__RESULT_BACKEND": {f"{airflow_db}@airflow-postgres/airflow": metadata_url},
        "AIRFLOW__CELERY__BROKER_URL": {"redis://redis:6379/0": redis_server},
        "LIFTOFF_ARCHIVE_URL": {"@minio:9000/liftoff-archive": f"@{minio.endpoint}/{bucket}"},
        # not reached by the script: a closed port, so a use of them would fail loudly
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": {"airflow-apiserver:8080": "127.0.0.1:9"},
        "AIRFLOW_CONN_KAFKA": {"kafka:9092": "127.0.0.1:9"},
        "LIFTOFF_API_URL": {"sales-api:8765": "127.0.0.1:9"},
    }
    env = base_env(tmp_path)
    env.update({key: moved(value, moves.get(key, {})) for key, value in resolved.items()})
    # names only: the values hold passwords
    unmoved = sorted(key for key, value in env.items() if names_compose_host(value))
    assert not unmoved, f"values naming a compose host, not moved to a stand-in: {unmoved}"
    # the server's roles are shared by every test: this one's own names, as the team fixture has them
    env.update({f"LIFTOFF_{kind.upper()}_ROLE": role for kind, role in team.roles.items()})
    if os.getuid() != 0:  # chown to another user is root's: the image's init runs as root
        env["AIRFLOW_UID"] = str(os.getuid())

    for _ in range(2):  # `docker compose up` runs it each time
        done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        output = done.stdout + done.stderr
        for secret in (
            "AIRFLOW_ADMIN_PASSWORD",
            "LIFTOFF_ARCHIVE_PIPELINE_SECRET",
            "LIFTOFF_PIPELINE_PASSWORD",
        ):
            assert resolved[secret] not in output, secret
        assert team.owner_password not in output
    # the first admin, a FAB login with the Admin role, made once
    with metadata.connect() as conn:
        admins = conn.execute(
            "select u.username, r.name from public.ab_user u"
            " join public.ab_user_role ur on ur.user_id = u.id join public.ab_role r on r.id = ur.role_id"
        ).fetchall()
    assert admins == [("admin", "Admin")]
    if os.getuid() == 0:  # handed to the image's Airflow user (not root, who made it)
        assert (tmp_path / "logs").stat().st_uid == int(env["AIRFLOW_UID"]) != 0
    # the warehouse bootstrapped as its owner; the pipeline's login works with the .env's password
    pipeline = local.as_role(team.roles["pipeline"], SecretStr(resolved["LIFTOFF_PIPELINE_PASSWORD"]))
    with pipeline.connect() as conn:
        assert conn.execute("select to_regclass('audit.batches')").fetchone()[0] is not None
    # the pipeline's MinIO user writes the archive with the .env's secret
    task = MinioStore(minio.endpoint, "liftoff-pipeline", resolved["LIFTOFF_ARCHIVE_PIPELINE_SECRET"], bucket)
    task.put_bytes("raw/probe.txt", b"written by a task")
    assert task.get_bytes("raw/probe.txt") == b"written by a task"

    # the minio service's healthcheck, against it
    live = run_healthcheck(services, "minio", base_env(tmp_path), {"localhost:9000": minio.endpoint})
    assert live.returncode == 0, live.stderr
    minio.stop()
    dead = run_healthcheck(
        services, "minio", base_env(tmp_path), {"localhost:9000": minio.endpoint}, attempts=1
    )
    assert dead.returncode != 0  # the check can fail: MinIO stopped


def test_the_databases_healthchecks_answer_for_a_running_server(
    services: dict[str, dict], pg_server: Warehouse, tmp_path: Path
) -> None:
    env = base_env(tmp_path) | services["warehouse"]["environment"] | {"PGPORT": str(pg_server.port)}
    warehouse = run_healthcheck(services, "warehouse", env)  # -h 127.0.0.1, the container's port
    assert warehouse.returncode == 0, warehouse.stdout + warehouse.stderr
    assert "accepting connections" in warehouse.stdout
    # the metadata database's: on the socket in its container; the test server by PGHOST
    metadata = run_healthcheck(
        services,
        "airflow-postgres",
        base_env(tmp_path) | {"PGHOST": pg_server.host, "PGPORT": str(pg_server.port)},
    )
    assert metadata.returncode == 0, metadata.stdout + metadata.stderr
    marquez = run_healthcheck(
        services, "marquez-db", base_env(tmp_path) | {"PGHOST": pg_server.host, "PGPORT": str(pg_server.port)}
    )
    assert marquez.returncode == 0 and "accepting connections" in marquez.stdout, (
        marquez.stdout + marquez.stderr
    )
    closed = run_healthcheck(services, "warehouse", env | {"PGPORT": "9"}, attempts=1)
    assert closed.returncode != 0 and "no response" in closed.stdout


def in_own_network(argv: list[str], setup: str, teardown: str) -> list[str]:
    """``argv`` run in a network namespace of its own (loopback only, as a container's), after
    the shell line ``setup`` and before ``teardown``; its exit status is ``argv``'s."""
    line = f'ip link set lo up && {setup}; "$@"; status=$?; {teardown}; exit $status'
    as_root = [] if os.getuid() == 0 else ["--map-root-user"]  # a network namespace is root's
    return ["unshare", *as_root, "--net", "sh", "-c", line, "sh", *argv]


def test_redis_and_the_demo_apis_healthchecks(
    services: dict[str, dict], sales_api: str, tmp_path: Path
) -> None:
    # redis-cli ping asks 127.0.0.1:6379, as in the container: in a network namespace of its
    # own, a Redis on that port (Debian's redis-server; the image is redis:7)
    for tool in ("unshare", "ip", "redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            pytest.fail(f"no {tool} here: .ci/run installs util-linux, iproute2 and redis-server")
    redis = (
        f"redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --dir {tmp_path}"
        f" --daemonize yes --pidfile {tmp_path}/redis.pid >/dev/null && sleep 1"
    )
    stop = f"kill $(cat {tmp_path}/redis.pid)"
    argv = healthcheck(services, "redis")
    up = subprocess.run(in_own_network(argv, redis, stop), capture_output=True, text=True, timeout=60)
    assert up.returncode == 0 and up.stdout.strip() == "PONG", up.stdout + up.stderr
    down = subprocess.run(in_own_network(argv, "true", "true"), capture_output=True, text=True, timeout=60)
    assert down.returncode != 0 or "PONG" not in down.stdout  # the check can fail: no Redis there

    api = run_healthcheck(
        services, "sales-api", base_env(tmp_path), {"localhost:8765": sales_api.removeprefix("http://")}
    )
    assert api.returncode == 0, api.stderr
