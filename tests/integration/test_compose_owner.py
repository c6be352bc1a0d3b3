"""The team deployment's warehouse owner is not a superuser, and `liftoff bootstrap` works as it.

docker-compose.yaml's warehouse service runs tools/warehouse/init-owner.sh from
/docker-entrypoint-initdb.d/ as the image's superuser at its first start. Here the same
script (with its init-owner.sql) runs against a real PostgreSQL as that superuser, then
`liftoff bootstrap` (the command airflow-init runs) logs in as the owner it made.
"""

from __future__ import annotations

import psycopg
from pydantic import SecretStr

from liftoff.config import LAYERS
from liftoff.warehouse.location import Warehouse
from tests.integration.conftest import Team


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
