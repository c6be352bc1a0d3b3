"""Sellers' logins (``liftoff deployment seller add``) against a real PostgreSQL: each is a
warehouse role that may only insert sales, and each sale records who entered it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from liftoff.config import TELEMETRY_OFF, ConfigError, get_settings
from liftoff.entry.form import SOURCE, STREAM
from liftoff.ingest.push import push_records
from liftoff.warehouse.location import Warehouse
from liftoff.warehouse.roles import add_seller
from tests.browser import start_streamlit
from tests.compose_cli import run_healthcheck, team_services
from tests.entry.conftest import AppWarehouse, add_products
from tests.entry.test_roles import a_sale, denied

LIFTOFF = str(Path(sys.executable).with_name("liftoff"))


def seller_command(
    warehouse: Warehouse, home: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIFTOFF_WAREHOUSE_URL": warehouse.url, "LIFTOFF_HOME": str(home)}
    return subprocess.run(
        [LIFTOFF, "deployment", "seller", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def seller_name(app_warehouse: AppWarehouse) -> Iterator[str]:
    """A seller's name no other test uses (roles are cluster-wide), its role dropped after."""
    name = f"seller_{uuid.uuid4().hex[:8]}"
    yield name
    with app_warehouse.owner.connect(autocommit=True) as conn:
        conn.execute(f'drop role if exists "{name}"')


def test_a_seller_enters_sales_as_itself_and_nothing_else(
    app_warehouse: AppWarehouse, seller_name: str, liftoff_home: Path
) -> None:
    password = secrets.token_urlsafe(16)
    added = seller_command(
        app_warehouse.owner, liftoff_home, "add", seller_name, "--password-stdin", stdin=password + "\n"
    )
    assert added.returncode == 0, added.stderr
    assert password not in added.stdout + added.stderr
    listed = seller_command(app_warehouse.owner, liftoff_home, "list")
    assert seller_name in listed.stdout.split()
    again = seller_command(
        app_warehouse.owner, liftoff_home, "add", seller_name, "--password-stdin", stdin="x" * 12
    )
    assert again.returncode == 1 and "exists already" in again.stderr

    seller = app_warehouse.owner.as_role(seller_name, SecretStr(password))
    with seller.connect() as conn:
        assert push_records(conn, SOURCE, STREAM, [a_sale()]) == 1
    with app_warehouse.entry_writer.connect() as conn:  # the embedded default's writer, as before
        assert push_records(conn, SOURCE, STREAM, [a_sale()]) == 1
    with app_warehouse.owner.connect() as conn:
        entered = conn.execute("select entered_by from raw_entry.sales order by entered_by").fetchall()
    assert sorted(entered) == sorted([("entry_writer",), (seller_name,)])

    # entered_by is the server's: neither a seller nor the entry writer may write it
    for target in (seller, app_warehouse.entry_writer):
        assert denied(
            target,
            "insert into raw_entry.sales (sale_id, _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta,"
            " entered_by) values ('forged', 'forged', now(), '{}', 'someone_else')",
        )
    add_products(app_warehouse.pipeline, "Starter Plan")
    for statement in (
        "select * from raw_entry.sales",
        "update raw_entry.sales set amount = '1'",
        "delete from raw_entry.sales",
        "select * from gold.gold_products",
        "select * from audit.batches",
    ):
        assert denied(seller, statement), statement
    with seller.connect() as conn:
        if conn.info.server_version >= 160000:  # before 16 a member may always `set role`
            assert denied(seller, "set role entry_writer")

    with pytest.raises(ConfigError, match="refused the login"):
        app_warehouse.owner.as_role(seller_name, SecretStr(password + "x")).connect()

    removed = seller_command(app_warehouse.owner, liftoff_home, "remove", seller_name)
    assert removed.returncode == 0, removed.stderr
    with pytest.raises(ConfigError, match="refused the login"):
        seller.connect()


def test_seller_add_never_touches_another_role(app_warehouse: AppWarehouse, liftoff_home: Path) -> None:
    for name in (
        get_settings().analyst_role,
        get_settings().entry_writer_role,
        "pipeline",
        app_warehouse.owner.user,
    ):
        refused = seller_command(
            app_warehouse.owner, liftoff_home, "add", name, "--password-stdin", stdin="y" * 12
        )
        assert refused.returncode == 1, (name, refused.stdout)
    short = seller_command(
        app_warehouse.owner, liftoff_home, "add", "ana_short", "--password-stdin", stdin="short"
    )
    assert short.returncode == 1 and "at least 8" in short.stderr
    with app_warehouse.analyst.connect() as conn:  # the analyst's password unchanged
        assert conn.execute("select 1").fetchone() == (1,)


def test_the_bootstrap_adds_entered_by_to_an_older_table(app_warehouse: AppWarehouse) -> None:
    from liftoff.config import load_sources
    from liftoff.warehouse.bootstrap import bootstrap

    with app_warehouse.entry_writer.connect() as conn:
        push_records(conn, SOURCE, STREAM, [a_sale()])
    with app_warehouse.owner.connect() as conn:  # as an older bootstrap left it
        conn.execute("alter table raw_entry.sales drop column entered_by")
        conn.execute("grant insert on raw_entry.sales to entry_writer")
        conn.commit()
    settings = get_settings().model_copy(
        update={"entry_writer_password": SecretStr(app_warehouse.entry_writer.password)}
    )
    with app_warehouse.owner.connect() as conn:
        bootstrap(conn, list(load_sources()), settings)
        conn.commit()
    with app_warehouse.entry_writer.connect() as conn:
        push_records(conn, SOURCE, STREAM, [a_sale()])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into raw_entry.sales (sale_id, entered_by) values ('forged', 'x')")
    with app_warehouse.owner.connect() as conn:
        entered = conn.execute(
            "select entered_by from raw_entry.sales order by entered_by nulls first"
        ).fetchall()
    assert entered == [(None,), ("entry_writer",)]


@pytest.fixture
def login_app(app_warehouse: AppWarehouse, tmp_path: Path) -> Iterator[str]:
    """The app as the team deployment runs it: the two role URLs, LIFTOFF_ENTRY_LOGIN=required."""
    env = {key: value for key, value in os.environ.items() if key != "LIFTOFF_WAREHOUSE_URL"}
    env |= {
        **TELEMETRY_OFF,
        "LIFTOFF_ANALYST_URL": app_warehouse.analyst.url,
        "LIFTOFF_ENTRY_URL": app_warehouse.entry_writer.url,
        "LIFTOFF_ENTRY_LOGIN": "required",
    }
    with start_streamlit(env, tmp_path) as url:
        yield url


def test_the_entry_app_services_healthcheck_answers_for_the_app(login_app: str, tmp_path: Path) -> None:
    """The compose file's entry-app healthcheck (Compose's resolved command), run against the
    app as the team deployment runs it: the container's port moved to the app's."""
    services = team_services(tmp_path / "compose")
    port = login_app.rpartition(":")[2]
    up = run_healthcheck(services, "entry-app", dict(os.environ), {"localhost:8501": f"localhost:{port}"})
    assert up.returncode == 0, up.stderr
    closed = run_healthcheck(
        services, "entry-app", dict(os.environ), {"localhost:8501": "localhost:9"}, attempts=1
    )
    assert closed.returncode != 0  # the check can fail: nothing answers there


def test_the_app_asks_for_a_login_and_records_who_entered_a_sale(
    browser, login_app: str, app_warehouse: AppWarehouse, seller_name: str
) -> None:
    from tests.entry.test_browser import fill_form

    add_products(app_warehouse.pipeline, "Starter Plan")
    password = secrets.token_urlsafe(16)
    with app_warehouse.owner.connect() as conn:
        assert add_seller(conn, get_settings(), seller_name, SecretStr(password))

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(login_app)
    page.get_by_role("button", name="Log in").wait_for()
    assert page.get_by_text("Enter a sale").count() == 0  # nothing but the login before it

    page.get_by_role("textbox", name="Name", exact=True).fill(seller_name)
    page.get_by_role("textbox", name="Password", exact=True).fill(password + "x")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Wrong name or password.").wait_for()

    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Logged in as {seller_name}").wait_for()
    fill_form(page, "ana@liftoff.example", "49.00", "Starter Plan")
    page.get_by_role("button", name="Save sale").click()
    page.get_by_text("It reaches the dashboards after the next daily run").wait_for()
    with app_warehouse.owner.connect() as conn:
        rows = conn.execute("select seller_email, amount, entered_by from raw_entry.sales").fetchall()
    assert rows == [("ana@liftoff.example", "49.00", seller_name)]
