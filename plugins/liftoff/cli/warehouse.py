"""``liftoff bootstrap`` and ``liftoff sql``: the warehouse made, and queried read-only."""

from __future__ import annotations

from typing import Annotated

import psycopg
import typer
from rich.table import Table

from liftoff.cli.common import console, one_line_errors
from liftoff.cli.sessions import owner_session, query_session
from liftoff.config import first_line, get_settings
from liftoff.errors import Refused


@one_line_errors
def bootstrap_command() -> None:
    """Make the warehouse's schemas, platform tables, roles and grants (idempotent).

    Run once per deployment with an owner's login (LIFTOFF_WAREHOUSE_URL or the `warehouse`
    connection's URL in AIRFLOW_CONN_WAREHOUSE); the passwords of the roles come from
    LIFTOFF_PIPELINE_PASSWORD, LIFTOFF_ANALYST_PASSWORD, LIFTOFF_ENTRY_WRITER_PASSWORD.
    """
    settings = get_settings()
    with owner_session() as conn:
        where = f"{conn.info.user}@{conn.info.host}:{conn.info.port}/{conn.info.dbname}"
    console.print(
        f"bootstrapped {where}: schemas, audit and catalog tables, pushed landing tables,"
        f" roles {settings.pipeline_role}, {settings.analyst_role}, {settings.entry_writer_role}"
    )
    for role, password in (
        (settings.pipeline_role, settings.pipeline_password),
        (settings.analyst_role, settings.analyst_password),
        (settings.entry_writer_role, settings.entry_writer_password),
    ):
        if password is None:
            console.print(f"  {role}: password unchanged (a new role cannot log in until one is set)")


@one_line_errors
def sql(
    query: Annotated[str, typer.Argument(help="One SQL statement, read only (e.g. select … from gold.…).")],
    limit: Annotated[int, typer.Option(min=1, help="Rows shown at most.")] = 200,
) -> None:
    """Query the warehouse (the embedded one, LIFTOFF_WAREHOUSE_URL, or the `warehouse`
    connection): one statement, in a read-only transaction. With the owner's login it runs as
    the liftoff_reader role (it reads every platform schema); with any other (a worker's
    pipeline login, an analyst's) as that login, nothing bootstrapped."""
    with query_session() as conn:
        cursor = conn.cursor()
        try:
            # A prepared statement (the extended protocol) holds one statement: no
            # `; commit; …` can follow it. Without parameters, a '%' stays a '%'.
            cursor.execute(query, prepare=True)
        except psycopg.Error as exc:
            if "multiple commands" in str(exc):
                raise Refused("liftoff sql runs one statement: remove the ';' and what follows") from None
            raise Refused(f"the query failed: {first_line(exc)}") from None
        if cursor.description is None:
            console.print("done (no rows to show)")
            return
        rows = cursor.fetchmany(limit)
        more = cursor.fetchone() is not None
    table = Table(title=f"{len(rows)} row(s){' (more not shown)' if more else ''}", title_justify="left")
    for column in cursor.description:
        table.add_column(column.name)
    for row in rows:
        table.add_row(*("" if value is None else str(value) for value in row))
    console.print(table)
