"""``liftoff quarantine``: the rows the contracts rejected, listed and replayed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from liftoff.cli.common import console, one_line_errors
from liftoff.cli.sessions import owner_session
from liftoff.errors import Refused
from liftoff.validate.quarantine import UnknownBatch, list_quarantine, replay_batch

quarantine_app = typer.Typer(help="Rows the contracts rejected.", no_args_is_help=True)


@quarantine_app.command("list")
@one_line_errors
def quarantine_list(
    batch: Annotated[str | None, typer.Option(help="Only this batch (e.g. crm.sales.20261120T0000).")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Quarantined rows with the fields in error."""
    with owner_session() as conn:
        rows = list_quarantine(conn, batch, limit)
    if not rows:
        console.print(f"no rejected rows{f' in {batch}' if batch else ''} yet: audit.quarantine is empty")
        return
    table = Table(title=f"audit.quarantine ({len(rows)} shown)", title_justify="left")
    for column in ("batch_id", "airbyte_raw_id", "fields", "message"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["batch_id"], row["airbyte_raw_id"], row["fields"], row["message"])
    console.print(table)


@quarantine_app.command("replay")
@one_line_errors
def quarantine_replay(
    batch: Annotated[str, typer.Option(help="The batch whose quarantined rows to revalidate.")],
) -> None:
    """Revalidate a batch's quarantined rows with today's contract; move the valid ones into the batch."""
    with owner_session() as conn:
        try:
            result = replay_batch(conn, batch)
        except UnknownBatch as exc:
            raise Refused(str(exc)) from None
    console.print(
        f"{result.batch_id}: replayed {result.replayed} rows with contract v{result.contract_version}: "
        f"{result.moved} moved into the batch, {result.still_rejected} still rejected"
    )
    if result.moved:
        console.print(f"rebuild the layers for that day: liftoff run --date {result.day}")
