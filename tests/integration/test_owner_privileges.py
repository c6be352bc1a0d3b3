"""Nothing the pipeline role can create ever runs as the warehouse owner (issue 23, case 2),
and `liftoff sql` is one read-only statement as a role that only reads (case 9).

Against a real PostgreSQL: the pipeline plants what it can (a schema named after the
owner holding a built-in's look-alike, a trigger on the landing table it owns), then the
owner's commands run as an operator would run them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from liftoff.archive.archiver import archive_batch
from liftoff.archive.store import LocalFolderStore
from liftoff.batch import Batch, Interval
from liftoff.config import get_settings
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale
from sales_api.data import sales_for_day
from tests.integration.landing import land_sales

LIFTOFF = str(Path(sys.executable).with_name("liftoff"))
DAY = date(2026, 11, 20)
BATCH = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))
PIPELINE_PASSWORD = "pipeline-test-password"  # a test role's, on a throwaway server


def liftoff(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("LIFTOFF_", "AIRFLOW_CONN_"))}
    return subprocess.run(
        [LIFTOFF, *args], env={**environment, **env}, capture_output=True, text=True, timeout=300
    )


def is_superuser(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("select rolsuper from pg_catalog.pg_roles where rolname = %s", (role,)).fetchone()[0]


@pytest.fixture
def archived(warehouse: Warehouse, tmp_path: Path):
    """A bootstrapped warehouse whose day DAY of crm.sales is landed and archived in a folder;
    the pipeline logs in with PIPELINE_PASSWORD. Yields (owner, pipeline, archive folder, rows)."""
    settings = get_settings().model_copy(update={"pipeline_password": SecretStr(PIPELINE_PASSWORD)})
    folder = tmp_path / "archive"
    with warehouse.connect() as conn:
        bootstrap(conn, settings=settings)
        conn.commit()
        land_sales(conn, sales_for_day(DAY).sales)
        validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0)
        rows = archive_batch(conn, BATCH, LocalFolderStore(folder)).rows
        # the connector's landing table is the pipeline's (it creates it, adds columns)
        conn.execute(
            sql.SQL("alter table raw_crm.sales owner to {}").format(sql.Identifier(settings.pipeline_role))
        )
        conn.commit()
    pipeline = warehouse.as_role(settings.pipeline_role, SecretStr(PIPELINE_PASSWORD))
    try:
        yield warehouse, pipeline, folder, rows
    finally:  # roles are the cluster's: never leave a superuser pipeline to the next test
        with warehouse.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("alter role {} nosuperuser").format(sql.Identifier(settings.pipeline_role)))


def restore(owner: Warehouse, folder: Path, home: Path) -> subprocess.CompletedProcess:
    return liftoff(
        "archive", "restore", "--source", "crm", "--stream", "sales", "--day", DAY.isoformat(),
        LIFTOFF_WAREHOUSE_URL=owner.url,
        LIFTOFF_ARCHIVE_URL=folder.as_uri(),
        LIFTOFF_PIPELINE_PASSWORD=PIPELINE_PASSWORD,
        LIFTOFF_HOME=str(home),
    )  # fmt: skip


def test_a_function_planted_under_the_owners_name_never_runs_in_a_restore(archived, tmp_path: Path) -> None:
    owner, pipeline, folder, rows = archived
    with pipeline.connect(autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("create schema {}").format(sql.Identifier(owner.user)))
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.DuplicateSchema):
            planted = False  # the bootstrap made the owner's own schema: nothing to plant
        else:
            planted = True
            conn.execute(
                sql.SQL(
                    "create function {}.json_populate_recordset(anyelement, text) returns setof anyelement"
                    " language plpgsql as $$ begin execute 'alter role {} superuser'; return; end $$"
                ).format(sql.Identifier(owner.user), sql.Identifier(pipeline.user))
            )
            conn.execute(sql.SQL("grant usage on schema {} to public").format(sql.Identifier(owner.user)))
    done = restore(owner, folder, tmp_path / "home")
    with owner.connect() as conn:
        assert not is_superuser(conn, pipeline.user), "the planted function ran as the owner"
        landed = BATCH.count(conn)
    assert done.returncode == 0, done.stderr
    assert f"restored {rows} rows" in done.stdout and landed == rows, (done.stdout, landed)
    assert not planted, 'the schema `"$user"` names for the owner is the owner\'s, made by the bootstrap'
    with owner.connect() as conn:  # psql's and an Airbyte destination's first schema: the owner's
        found = conn.execute(
            "select pg_catalog.pg_get_userbyid(nspowner) from pg_catalog.pg_namespace where nspname = %s",
            (owner.user,),
        ).fetchone()
    assert found == (owner.user,)


def test_a_trigger_on_the_pipelines_landing_table_runs_as_the_pipeline(archived, tmp_path: Path) -> None:
    """The restore writes landing as the pipeline: its trigger cannot escalate, and rows a
    trigger swallows are not reported as restored."""
    owner, pipeline, folder, rows = archived
    with pipeline.connect(autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "create function raw_crm.escalate() returns trigger language plpgsql as $$"
                " begin execute 'alter role {} superuser'; return new;"
                " exception when others then return new; end $$"
            ).format(sql.Identifier(pipeline.user))
        )
        conn.execute(
            "create trigger escalate before insert on raw_crm.sales"
            " for each row execute function raw_crm.escalate()"
        )
    done = restore(owner, folder, tmp_path / "home")
    with owner.connect() as conn:
        assert not is_superuser(conn, pipeline.user), "the pipeline's trigger ran as the owner"
    assert done.returncode == 0, done.stderr
    assert f"restored {rows} rows" in done.stdout

    with pipeline.connect(autocommit=True) as conn:  # now a trigger that keeps every row out
        conn.execute(
            "create or replace function raw_crm.escalate() returns trigger language plpgsql as $$"
            " begin return null; end $$"
        )
    swallowed = restore(owner, folder, tmp_path / "home")
    assert swallowed.returncode == 2, swallowed.stdout + swallowed.stderr
    assert f"the warehouse took 0 rows, the manifest says {rows}" in swallowed.stderr
    with owner.connect() as conn:
        assert BATCH.count(conn) == rows, "a refused restore leaves landing as it was"


def test_owner_sessions_resolve_names_in_the_system_catalog_only(bootstrapped: Warehouse) -> None:
    with bootstrapped.connect() as conn:
        assert conn.execute("show search_path").fetchone()[0] == "pg_catalog,pg_temp"


def test_the_bootstrap_refuses_a_schema_of_its_own_that_the_pipeline_made(archived, database_factory) -> None:
    owner, pipeline, _, _ = archived
    fresh = database_factory()
    as_pipeline = Warehouse(fresh.host, fresh.port, fresh.database, pipeline.user, pipeline.password)
    with owner.connect(autocommit=True) as conn:  # the pipeline's CREATE comes from a bootstrap
        conn.execute(
            sql.SQL("grant create on database {} to {}").format(
                sql.Identifier(fresh.database), sql.Identifier(pipeline.user)
            )
        )
    with as_pipeline.connect(autocommit=True) as conn:
        conn.execute("create schema audit")
    with fresh.connect() as conn, pytest.raises(Exception, match=r"audit \(owned by pipeline\)"):
        bootstrap(conn)


def test_liftoff_sql_runs_one_statement_read_only_as_a_reader(
    bootstrapped: Warehouse, tmp_path: Path
) -> None:
    env = {"LIFTOFF_WAREHOUSE_URL": bootstrapped.url, "LIFTOFF_HOME": str(tmp_path)}
    who = liftoff("sql", "select current_user as who, current_setting('transaction_read_only') as ro", **env)
    assert who.returncode == 0, who.stderr
    assert "liftoff_reader" in who.stdout and " on " in who.stdout, who.stdout
    smuggled = liftoff("sql", "select 1; commit; create table public.p(x int)", **env)
    assert smuggled.returncode == 2 and "one statement" in smuggled.stderr, smuggled.stdout + smuggled.stderr
    alone = liftoff("sql", "create table public.p(x int)", **env)
    assert alone.returncode == 2 and "read-only transaction" in alone.stderr, alone.stderr
    percent = liftoff("sql", "select 7 % 4 as r, 'ab' like 'a%' as l", **env)
    assert percent.returncode == 0 and "3" in percent.stdout, percent.stdout + percent.stderr
    with bootstrapped.connect() as conn:
        assert conn.execute("select to_regclass('public.p')").fetchone()[0] is None
        assert conn.execute(
            "select not rolsuper and not rolcreatedb and not rolcreaterole from pg_roles"
            " where rolname = 'liftoff_reader'"
        ).fetchone()[0]
        writes = conn.execute(
            "select count(*) from information_schema.role_table_grants where grantee = 'liftoff_reader'"
            " and privilege_type <> 'SELECT'"
        ).fetchone()[0]
        assert writes == 0


def test_liftoff_sql_from_a_worker_reads_with_the_pipeline_login_read_only(archived, tmp_path: Path) -> None:
    """A worker container has the pipeline's login only (the `warehouse` connection): the
    query runs as it, read-only, and nothing is bootstrapped (the pipeline could not)."""
    owner, pipeline, _, rows = archived
    env = {"AIRFLOW_CONN_WAREHOUSE": pipeline.url, "LIFTOFF_HOME": str(tmp_path)}
    who = liftoff("sql", "select current_user as who, count(*) as landed from raw_crm.sales", **env)
    assert who.returncode == 0, who.stdout + who.stderr
    assert f"{pipeline.user} " in who.stdout and f" {rows} " in who.stdout, who.stdout
    refused = liftoff("sql", "delete from raw_crm.sales", **env)
    assert refused.returncode == 2 and "read-only transaction" in refused.stderr, refused.stderr
    with owner.connect() as conn:
        assert conn.execute("select count(*) from raw_crm.sales").fetchone()[0] == rows


def test_an_owner_without_superuser_bootstraps_twice(pg_server: Warehouse) -> None:
    """The team deployment's owner: CREATEROLE and its database, no SUPERUSER."""
    tag = uuid.uuid4().hex[:8]
    owner_role, database = f"owner_{tag}", f"team_{tag}"
    admin = Warehouse(pg_server.host, pg_server.port, "postgres", pg_server.user, pg_server.password)
    with admin.connect(autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login createrole password 'pw'").format(sql.Identifier(owner_role))
        )
        conn.execute(
            sql.SQL("create database {} owner {}").format(
                sql.Identifier(database), sql.Identifier(owner_role)
            )
        )
    owner = Warehouse(pg_server.host, pg_server.port, database, owner_role, "pw")
    roles = {"pipeline_role": f"p_{tag}", "analyst_role": f"a_{tag}", "entry_writer_role": f"e_{tag}"}
    settings = get_settings().model_copy(update={**roles, "pipeline_password": SecretStr("pw")})
    try:
        for _ in range(2):
            with owner.connect() as conn:
                bootstrap(conn, settings=settings)
                conn.commit()
        with owner.connect() as conn:
            assert not is_superuser(conn, owner_role) and not is_superuser(conn, roles["pipeline_role"])
    finally:  # roles are the server's: none of this test's is left for the next
        with admin.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database)))
            for role in (*roles.values(), owner_role):
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
