"""The warehouse sessions of the commands: the owner's, the reader's, ``liftoff sql``'s."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from liftoff.config import get_settings
from liftoff.local.services import running_warehouse
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from liftoff.warehouse.roles import READER_ROLE, connect_as_helper


@contextmanager
def owner_connection() -> Iterator[tuple[Warehouse, psycopg.Connection]]:
    """The owner's login and a connection to the warehouse (started if embedded), bootstrapped.

    An owner's session never reads or writes a table the pipeline owns (its code could run
    with the owner's rights): such work goes through a helper role (``reader_session``,
    the restore's restorer).
    """
    settings = get_settings()
    with running_warehouse(settings) as target, target.connect() as conn:
        bootstrap(conn, settings=settings)
        conn.commit()
        yield target, conn


@contextmanager
def owner_session() -> Iterator[psycopg.Connection]:
    """An owner's connection to the warehouse (started if embedded), bootstrapped."""
    with owner_connection() as (_, conn):
        yield conn


@contextmanager
def reader_session(target: Warehouse) -> Iterator[psycopg.Connection]:
    """A session of the read-only ``liftoff_reader`` role, in read-only transactions
    (``target``: the owner's login, which lets the reader log in for this command)."""
    with target.connect() as owner, connect_as_helper(owner, target, READER_ROLE) as conn:
        conn.read_only = True
        yield conn


@contextmanager
def query_session() -> Iterator[psycopg.Connection]:
    """Where ``liftoff sql`` reads, in read-only transactions: the owner's (or a superuser's)
    login, bootstrapped, through ``reader_session``; any other login as itself."""
    settings = get_settings()
    with running_warehouse(settings) as target:
        with target.connect() as conn:
            owns = conn.execute(  # the owner, or a superuser (the embedded server's login)
                "select pg_catalog.pg_get_userbyid(datdba) operator(pg_catalog.=) current_user"
                " or (select rolsuper from pg_catalog.pg_roles"
                " where rolname operator(pg_catalog.=) current_user)"
                " from pg_catalog.pg_database where datname operator(pg_catalog.=) current_database()"
            ).fetchone()[0]
            conn.commit()  # the check's transaction ended: the session idle, as a new one
            if not owns:
                conn.read_only = True
                yield conn
                return
            bootstrap(conn, settings=settings)
            conn.commit()
        with reader_session(target) as conn:
            yield conn
