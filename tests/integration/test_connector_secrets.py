"""A connector's secret kept in an Airflow connection in Airflow's metadata database, as
`airflow connections add` (or the UI) puts it, read by the CLI outside any task
(`liftoff sources add`, `sources check`): the Task SDK alone would not look there.

A real metadata database (PostgreSQL, migrated by `airflow db migrate`: the session's
migrated_metadata, shared with test_fab_roles); the lookup runs in a process of its own, as the
CLI does.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
LOOKUP = """
import os, sys
from liftoff.config import ConnectionSecret
from liftoff.ingest.secrets import lookup
for field in ("password", "login", "refresh_token"):
    value = lookup(ConnectionSecret(connection=sys.argv[1], field=field), os.environ)
    print(field, "found" if value == os.environ["EXPECTED_" + field.upper()] else f"not found: {value!r}")
print("missing", lookup(ConnectionSecret(connection="nobody"), os.environ))
"""


def test_a_secret_in_a_connection_of_the_metadata_database_reaches_the_cli(
    migrated_metadata, tmp_path
) -> None:
    metadata = migrated_metadata  # shared, migrated by `airflow db migrate` (tests/conftest.py)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")},
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata.url.replace(
            "postgresql://", "postgresql+psycopg2://"
        ),
        "EXPECTED_PASSWORD": secrets.token_urlsafe(12),
        "EXPECTED_LOGIN": "app-7",
        "EXPECTED_REFRESH_TOKEN": secrets.token_urlsafe(12),
    }

    def run(*args: str) -> str:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run(
        AIRFLOW, "connections", "add", "hubspot", "--conn-type", "http",
        "--conn-login", env["EXPECTED_LOGIN"], "--conn-password", env["EXPECTED_PASSWORD"],
        "--conn-extra", f'{{"refresh_token": "{env["EXPECTED_REFRESH_TOKEN"]}"}}',
    )  # fmt: skip
    said = run(sys.executable, "-c", LOOKUP, "hubspot")
    assert "password found" in said and "login found" in said and "refresh_token found" in said, said
    assert "missing None" in said, said
