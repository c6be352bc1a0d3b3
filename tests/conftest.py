"""Shared fixtures: a real PostgreSQL, fresh databases, the demo API on a free port.

PostgreSQL: ``LIFTOFF_TEST_WAREHOUSE_URL`` (CI sets it to the machine's server). Without
it, outside CI, the embedded server from the pip wheel is started under a temp folder.
In CI a configured server that does not answer fails the tests loudly.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from liftoff.archive.store import LocalFolderStore, MinioStore, ObjectStore
from liftoff.config import Unavailable, disable_telemetry
from liftoff.local.ports import port_is_free
from liftoff.local.postgres import EmbeddedPostgres
from liftoff.warehouse.location import Warehouse
from sales_api.app import SalesApiSettings
from sales_api.server import BackgroundApi, free_port
from sales_api.shop import DEMO_SHOP_TOKEN
from tests.minio_server import MinioServer, minio_binary

disable_telemetry()
os.environ.setdefault(
    "LIFTOFF_SHOP_TOKEN", DEMO_SHOP_TOKEN
)  # the demo shop's token, as `liftoff demo` sets it
# The point-of-sale stream runs in the tests that give it a broker (the e2e and deployment
# tests); elsewhere a run is the batch sources' only, as their expectations say.
os.environ.setdefault("LIFTOFF_SKIP_SOURCES", "pos")
# A developer's .env (for docker compose) never steers the tests.
os.environ.setdefault("LIFTOFF_ENV_FILE", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Tests are marked by folder: these need real services (PostgreSQL, the demo API, a browser,
# the connectors' virtualenv); unit/ and dags/ need none (`make test-unit`).
INTEGRATION_FOLDERS = ("integration", "entry", "dbt")
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(TESTS).parts[0] in INTEGRATION_FOLDERS:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """A PostgreSQL server to create test databases on."""
    url = os.environ.get("LIFTOFF_TEST_WAREHOUSE_URL")
    if url:
        target = Warehouse.from_url(url)
        try:
            with target.connect():
                pass
        except Unavailable as exc:
            pytest.fail(f"LIFTOFF_TEST_WAREHOUSE_URL is set but the server does not answer: {exc}")
        yield target
        return
    if IN_CI:
        pytest.fail("CI must provide PostgreSQL: set LIFTOFF_TEST_WAREHOUSE_URL (see .ci/run)")
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), port=free_port())
    target = embedded.start()
    yield target
    embedded.stop()


def _admin(pg_server: Warehouse) -> Warehouse:
    return Warehouse(pg_server.host, pg_server.port, "postgres", pg_server.user, pg_server.password)


def _create_database(pg_server: Warehouse, prefix: str) -> Warehouse:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _admin(pg_server).connect(autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return Warehouse(pg_server.host, pg_server.port, name, pg_server.user, pg_server.password)


def _drop_databases(pg_server: Warehouse, names: list[str]) -> None:
    with _admin(pg_server).connect(autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def database_factory(pg_server: Warehouse) -> Iterator:
    """Create fresh, empty databases for one test (``make(prefix)``), dropped afterwards."""
    names: list[str] = []

    def make(prefix: str = "liftoff_test") -> Warehouse:
        database = _create_database(pg_server, prefix)
        names.append(database.database)
        return database

    yield make
    _drop_databases(pg_server, names)


@pytest.fixture(scope="session")
def migrated_metadata(pg_server: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One Airflow metadata database migrated by ``airflow db migrate`` with FAB's auth manager
    (Airflow's tables and FAB's: ``ab_user``...), shared by the tests that need no more; dropped
    at the end. Migrated only: no user, no role, no connection. The tests sharing it keep to
    names of their own (connections, DAGs) and only test_fab_roles adds users."""
    import subprocess

    from liftoff.deployment_users import FAB_AUTH_MANAGER
    from liftoff.local.children import airflow_binary

    metadata = _create_database(pg_server, "airflow_shared")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow-migrate")),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.url.replace(
            "postgresql://", "postgresql+psycopg2://"
        ),
    }
    try:
        done = subprocess.run(
            [airflow_binary(), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"airflow db migrate failed: {done.stdout}{done.stderr}"
        yield metadata
    finally:
        _drop_databases(pg_server, [metadata.database])


@pytest.fixture
def warehouse(database_factory) -> Warehouse:
    """A fresh, empty database for one test, dropped afterwards."""
    return database_factory()


@pytest.fixture
def bootstrapped(warehouse: Warehouse) -> Warehouse:
    """A fresh database after `liftoff bootstrap`: schemas, platform tables, roles."""
    from liftoff.warehouse.bootstrap import bootstrap

    with warehouse.connect() as conn:
        bootstrap(conn)
    return warehouse


@pytest.fixture(scope="session")
def sales_api() -> Iterator[str]:
    """The clean demo API: the one .ci/run started (LIFTOFF_TEST_API_URL), else one of our own."""
    url = os.environ.get("LIFTOFF_TEST_API_URL")
    if url:
        try:
            httpx.get(f"{url}/health", timeout=30).raise_for_status()
        except httpx.HTTPError as exc:
            pytest.fail(f"LIFTOFF_TEST_API_URL={url} does not answer: {exc}")
        yield url.rstrip("/")
        return
    with BackgroundApi(SalesApiSettings()) as server:
        yield server.url


@pytest.fixture
def api_server_factory() -> Iterator:
    """Start demo APIs with given settings (dirty data, API keys, faults) for one test."""
    servers: list[BackgroundApi] = []

    def start(**settings) -> BackgroundApi:
        server = BackgroundApi(SalesApiSettings(**settings)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def minio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A real MinIO server (built by `make minio`) for the session."""
    binary = minio_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI must provide MinIO: .ci/run builds it with `make minio`")
        pytest.skip("the MinIO binary is not built (run `make minio`); MinIO tests skipped outside CI")
    server = MinioServer(binary, tmp_path_factory.mktemp("minio") / "data").start()
    yield server
    server.stop()


@pytest.fixture(params=["local", "minio"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each object-store backend in turn: the behavioural tests hold for both."""
    if request.param == "local":
        return LocalFolderStore(tmp_path / "archive")
    server: MinioServer = request.getfixturevalue("minio_server")
    return MinioStore.from_url(server.url(f"test-{uuid.uuid4().hex[:10]}"), backoff=0.05)


@pytest.fixture
def liftoff_home(tmp_path: Path) -> Path:
    home = tmp_path / "liftoff-home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def airflow_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """`liftoff airflow` on a home of its own, shared by the UI and API tests; Ctrl-C at the
    end must leave none of its processes running."""
    from tests.airflow_deployment import start_deployment, stop_deployment

    deployment = start_deployment(tmp_path_factory.mktemp("airflow-home"))
    yield deployment
    left = stop_deployment(deployment)
    assert not left, f"still running after Ctrl-C of liftoff airflow: {left}"


@pytest.fixture
def browser():
    """Headless Chromium (Playwright); fails in CI when it is missing, else skips saying why."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A real Kafka broker (KRaft, the pinned Apache jars: `make kafka-libs`) on free ports."""
    from liftoff.local.kafka import EmbeddedKafka, missing_reason

    if (reason := missing_reason()) is not None:
        if IN_CI:
            pytest.fail(f"CI must provide Kafka: {reason}")
        pytest.skip(f"no Kafka broker here: {reason}")
    broker = EmbeddedKafka(tmp_path_factory.mktemp("kafka"), port=free_port(), controller_port=free_port())
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis (Debian's redis-server) on a free port: the Celery broker; its URL."""
    import shutil
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        reason = "no redis-server here: apt-get install redis-server (.ci/run does)"
        if IN_CI:
            pytest.fail(f"CI must provide Redis: {reason}")
        pytest.skip(reason)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=(folder / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while port_is_free(port):
        assert process.poll() is None and time.monotonic() < deadline, (folder / "redis.log").read_text()
        time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(30)
