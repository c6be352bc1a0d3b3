"""`liftoff sources add` with real connectors from PyPI, then a real run: proved in a copy of the project.

Two connectors nobody here wrote: airbyte-source-faker (offline by design) and airbyte-source-s3
reading a supplier's CSV price list and JSON Lines deliveries from the tests' MinIO. Each goes
through `sources add` (install, spec, check, discover, scaffolded contracts, the entry, derive
and dbt parse), then one `liftoff run` of today lands, gates, archives and builds bronze for
both, with no file edited by hand. The S3 key id comes from an environment variable, the secret
key from an Airflow connection; neither is anywhere in the project, the output or the archive.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from minio import Minio

from liftoff.config import PROJECT_ROOT, Settings
from liftoff.ingest.connectors import ConnectorPackage, install
from liftoff.warehouse.location import Warehouse
from tests.minio_server import MinioServer

VENV = Path(sys.executable).parent.parent
FAKER = "airbyte-source-faker==7.2.1"
S3 = "airbyte-source-s3==4.14.2"
PRICES = b"sku,name,unit_price\nP-1,Widget,12.50\nP-2,Gadget,7.25\nP-3,Gizmo,3.10\n"
DELIVERIES = (
    b'{"delivery_id": "D-1", "sku": "P-1", "units": 40}\n{"delivery_id": "D-2", "sku": "P-3", "units": 5}\n'
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project, with its contracts importable as `liftoff_contracts` (as the
    editable install makes them in a checkout)."""
    root = tmp_path_factory.mktemp("sources-add")
    copy = root / "project"
    shutil.copytree(
        PROJECT_ROOT,
        copy,
        ignore=shutil.ignore_patterns(".git", ".venv*", ".liftoff", "target", "logs", "site", "__pycache__"),
    )
    (root / "packages").mkdir()
    (root / "packages" / "liftoff_contracts").symlink_to(copy / "include" / "contracts")
    for package in (FAKER, S3):  # cached per version, as on every machine: installed once
        install(ConnectorPackage.parse(package), Settings().connectors_dir)
    return copy


def liftoff(
    project: Path, env: dict[str, str], *args: str, timeout: int = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV / "bin" / "liftoff"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_two_real_connectors_added_with_one_command_each_reach_bronze(
    project: Path, warehouse: Warehouse, sales_api: str, minio_server: MinioServer, tmp_path: Path
) -> None:
    client = Minio(
        minio_server.endpoint,
        access_key=minio_server.access_key,
        secret_key=minio_server.secret_key,
        secure=False,
    )
    if not client.bucket_exists("supplier-feed"):
        client.make_bucket("supplier-feed")
    client.put_object("supplier-feed", "prices/2026-12.csv", io.BytesIO(PRICES), len(PRICES))
    client.put_object("supplier-feed", "deliveries/d1.jsonl", io.BytesIO(DELIVERIES), len(DELIVERIES))
    env = {
        **os.environ,
        "PYTHONPATH": f"{project / 'plugins'}:{project.parent / 'packages'}",
        "LIFTOFF_ENV_FILE": "",
        "LIFTOFF_WAREHOUSE_URL": warehouse.url,
        "LIFTOFF_API_URL": sales_api,
        "LIFTOFF_HOME": str(tmp_path / "home"),
        "LIFTOFF_SKIP_SOURCES": "pos",  # no broker needed: this test is about the new sources
        "LIFTOFF_AIRBYTE_PYTHON": str(PROJECT_ROOT / ".venv-airbyte" / "bin" / "python"),
        "LIFTOFF_SUPPLIER_AWS_ACCESS_KEY_ID": minio_server.access_key,
        # the secret key in an Airflow connection (here Airflow's environment-variable backend)
        "AIRFLOW_CONN_SUPPLIER_S3": json.dumps({"conn_type": "aws", "password": minio_server.secret_key}),
    }
    env.pop("LIFTOFF_SOURCES_FILE", None)
    s3_config = json.dumps(
        {
            "bucket": "supplier-feed",
            "endpoint": f"http://{minio_server.endpoint}",
            "streams": [
                {"name": "prices", "globs": ["prices/*.csv"], "format": {"filetype": "csv"}},
                {
                    "name": "deliveries",
                    "globs": ["deliveries/*.jsonl"],
                    "format": {"filetype": "jsonl"},
                    "primary_key": "delivery_id",
                },
            ],
        }
    )

    # a secret in --config is refused, and not echoed
    leaked = s3_config.replace('"bucket"', f'"aws_secret_access_key": "{minio_server.secret_key}", "bucket"')
    refused = liftoff(project, env, "sources", "add", "supplier", "--connector", S3, "--config", leaked)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "aws_secret_access_key, a secret" in refused.stderr
    assert minio_server.secret_key not in refused.stdout + refused.stderr
    assert "supplier" not in (project / "include" / "sources.yaml").read_text(), "a refusal writes nothing"

    added = liftoff(
        project, env, "sources", "add", "supplier", "--connector", S3, "--config", s3_config,
        "--full-refresh", "prices", "--primary-key", "prices=sku",
        "--secret", "aws_secret_access_key=connection:supplier_s3",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert "secret aws_secret_access_key from Airflow connection supplier_s3 (password)" in added.stdout
    added = liftoff(
        project, env, "sources", "add", "faker", "--connector", FAKER,
        "--config", '{"count": 25, "seed": 7, "always_updated": false}',
        "--streams", "products,purchases", "--full-refresh", "products",
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    again = liftoff(project, env, "sources", "add", "faker", "--connector", FAKER)
    assert again.returncode == 2 and "already in sources.yaml" in again.stderr

    entries = yaml.safe_load((project / "include" / "sources.yaml").read_text())["sources"]
    assert entries["supplier"]["connector"]["secrets"] == {
        "aws_access_key_id": "LIFTOFF_SUPPLIER_AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": {"connection": "supplier_s3"},
    }, "the entry names the variable and the connection, never the values"
    assert entries["supplier"]["streams"]["deliveries"]["sync"] == "incremental"
    assert entries["supplier"]["streams"]["prices"] == {
        "sync": "full_refresh", "contract": "supplier_prices", "primary_key": "sku", "max_reject_ratio": 0.05,
    }  # fmt: skip
    assert entries["faker"]["streams"]["purchases"]["cursor_field"] == "updated_at"
    for contract in ("supplier_prices", "supplier_deliveries", "faker_products", "faker_purchases"):
        assert (project / "include" / "contracts" / f"{contract}.py").is_file()
        assert (project / "include" / "dbt" / "macros" / "bronze" / f"{contract}.sql.j2").is_file()
    listed = liftoff(project, env, "sources", "list")
    assert listed.returncode == 0 and "airbyte-source-s3==4.14.2" in listed.stdout
    checked = liftoff(project, env, "sources", "check", "supplier")
    assert checked.returncode == 0 and "supplier: ok" in checked.stdout, checked.stdout + checked.stderr

    today = datetime.now(UTC).date().isoformat()
    run = liftoff(project, env, "run", "--date", today, "--partial-day", timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    with warehouse.connect() as conn:

        def one(query: str) -> object:
            return conn.execute(query).fetchone()[0]

        assert one("select count(*) from raw_supplier.prices") == 3
        assert one("select count(*) from bronze.bronze_supplier_prices") == 3
        assert one("select count(*) from bronze.bronze_supplier_deliveries") == 2
        assert one("select sum(units) from bronze.bronze_supplier_deliveries") == 45, "typed by the scaffold"
        assert one("select count(*) from bronze.bronze_faker_products") == 25
        assert one("select count(*) from bronze.bronze_faker_purchases") > 0
        archived = conn.execute(
            "select source || '.' || stream from audit.batches where status = 'archived'"
            " and source in ('supplier', 'faker') order by 1"
        ).fetchall()
        assert [r[0] for r in archived] == [
            "faker.products", "faker.purchases", "supplier.deliveries", "supplier.prices",
        ]  # fmt: skip
        assert one("select count(*) from audit.connector_state where source = 'faker'") == 1
    secret = minio_server.secret_key
    assert secret not in run.stdout + run.stderr + added.stdout + added.stderr
    for path in [*(project / "include").rglob("*"), *(tmp_path / "home").rglob("*.log")]:
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".sql", ".j2", ".log", ".json"}:
            assert secret not in path.read_text(errors="replace"), f"the secret is in {path}"
