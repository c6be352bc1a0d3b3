"""The ``liftoff`` command: run the platform on the embedded default, one day or a demo week."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from liftoff.airflow_runner import RunOutcome, airflow_env, ensure_metadata_db, run_day
from liftoff.config import ConfigError, disable_telemetry, get_settings, load_sources
from liftoff.services import demo_api, warehouse
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.target import WarehouseTarget

app = typer.Typer(
    help="LiftOff Data: the daily sales ELT platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the width

GOLD_TABLES = ("gold_sales_by_product_7d", "gold_sales_by_seller_7d", "gold_sales_daily")


def one_line_errors(command):
    """Configuration problems end the command with one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None

    return wrapper


@contextmanager
def embedded_session(dirty_fraction: float | None = None) -> Iterator[tuple[WarehouseTarget, dict[str, str]]]:
    """The warehouse, the demo API and Airflow's environment, for the length of a command."""
    disable_telemetry()
    settings = get_settings()
    sources = load_sources()
    with warehouse(settings) as target, demo_api(settings, dirty_fraction=dirty_fraction) as api_url:
        console.print(f"warehouse [bold]{target.safe_str()}[/]  ·  sales API [bold]{api_url}[/]")
        with target.connect() as conn:
            bootstrap(conn, list(sources))
        env = airflow_env(settings, target, api_url)
        with console.status("preparing Airflow metadata database"):
            ensure_metadata_db(env)
        yield target, env


def run_days(days: list[date], env: dict[str, str]) -> list[RunOutcome]:
    """Run ``sales_elt`` for each day in order; stop at the first failure."""
    outcomes: list[RunOutcome] = []
    for day in days:
        with console.status(f"sales_elt for {day}"):
            outcome = run_day(day, env, get_settings().home / "logs")
        outcomes.append(outcome)
        if not outcome.ok:
            err.print(f"[red]✗[/] sales_elt {day}: {outcome.reason}\n  log: {outcome.log_path}")
            break
        console.print(f"[green]✓[/] sales_elt {day}")
    return outcomes


def gold_counts(target: WarehouseTarget) -> dict[str, int]:
    with target.connect() as conn:
        return {
            name: int(conn.execute(f"select count(*) from gold.{name}").fetchone()[0]) for name in GOLD_TABLES
        }


def print_gold(target: WarehouseTarget, as_of: date) -> None:
    queries = {
        "gold_sales_by_product_7d": (
            "select product, sales, units, revenue, revenue_rank from "
            "gold.gold_sales_by_product_7d where as_of_date = %s order by revenue_rank"
        ),
        "gold_sales_by_seller_7d": (
            "select seller_email, sales, units, revenue, revenue_rank from "
            "gold.gold_sales_by_seller_7d where as_of_date = %s order by revenue_rank"
        ),
        "gold_sales_daily": (
            "select sale_date, sales, units, revenue, avg_ticket, active_sellers from "
            "gold.gold_sales_daily where sale_date <= %s order by sale_date"
        ),
    }
    with target.connect() as conn:
        for name, query in queries.items():
            cur = conn.execute(query, (as_of,))
            table = Table(title=f"{name} (as of {as_of})", title_justify="left")
            for column in cur.description:
                table.add_column(column.name, justify="right" if column.name != "product" else "left")
            for row in cur.fetchall():
                table.add_row(*(str(value) for value in row))
            console.print(table)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@app.command()
@one_line_errors
def demo(
    days: Annotated[int, typer.Option(min=1, max=366, help="How many past days to run, oldest first.")] = 7,
    dirty_fraction: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of dirty rows the demo API injects.")
    ] = None,
) -> None:
    """Run sales_elt through Airflow for each of the last N complete days, then show gold."""
    today = datetime.now(UTC).date()
    run_for = [today - timedelta(days=offset) for offset in range(days, 0, -1)]
    with embedded_session(dirty_fraction) as (target, env):
        if not all(outcome.ok for outcome in run_days(run_for, env)):
            raise typer.Exit(1)
        print_gold(target, run_for[-1])
        counts = gold_counts(target)
    console.print(
        "gold: " + " ".join(f"{name}={counts[name]}" for name in GOLD_TABLES), soft_wrap=True, highlight=False
    )


@app.command()
@one_line_errors
def run(
    day: Annotated[str, typer.Option("--date", help="The day of data to process (YYYY-MM-DD, UTC).")],
) -> None:
    """Run sales_elt for one day of data (rerunning a day replaces it)."""
    with embedded_session() as (_, env):
        if not run_days([_parse_day(day)], env)[-1].ok:
            raise typer.Exit(1)


@app.command()
def api(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 8765,
    dirty_fraction: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
) -> None:
    """Serve the demo CRM sales API in the foreground."""
    import uvicorn

    from sales_api.app import SalesApiSettings, create_app

    uvicorn.run(
        create_app(SalesApiSettings(dirty_fraction=dirty_fraction)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )


if __name__ == "__main__":
    app()
