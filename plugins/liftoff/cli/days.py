"""Running days of ``sales_elt``: on the embedded default (``airflow dags test``) or through
the running ``liftoff airflow``; the gold and stream summaries after them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from rich.table import Table

from liftoff.batch import day_not_ended
from liftoff.cli.common import console, err, warn
from liftoff.cli.sessions import reader_session
from liftoff.config import (
    GOLD_SCHEMA,
    disable_telemetry,
    get_settings,
    load_sources,
    redacted_url,
    streamed_sources,
)
from liftoff.dag_defaults import DAG_ID
from liftoff.errors import Refused
from liftoff.ingest.skipping import SKIP_INGEST
from liftoff.local.airflow_runner import RunOutcome, airflow_env, ensure_metadata_db, run_day
from liftoff.local.services import demo_api, embedded_kafka, run_lock, running_kafka, running_warehouse
from liftoff.warehouse.bootstrap import bootstrap_for_pipeline
from liftoff.warehouse.location import Warehouse


@contextmanager
def embedded_session(
    days: list[date], dirty_fraction: float | None = None
) -> Iterator[tuple[Warehouse, dict[str, str]]]:
    """The warehouse, the demo API, the Kafka broker (the simulator's ``days`` on it) and
    Airflow's environment, for the length of a command."""
    from liftoff.derive import check_current

    disable_telemetry()
    settings = get_settings()
    sources = load_sources()
    check_current(sources)  # the dbt project must say what sources.yaml says
    with (
        run_lock(settings.home, warn),
        running_warehouse(settings) as target,
        demo_api(settings, dirty_fraction=dirty_fraction) as api_url,
        running_kafka(settings, warn) as kafka_servers,
    ):
        console.print(
            f"warehouse [bold]{target.safe_str()}[/]  ·  sales API [bold]{redacted_url(api_url)}[/]"
            + (f"  ·  Kafka [bold]{kafka_servers}[/]" if kafka_servers else "")
        )
        replay_point_of_sale(settings, kafka_servers, days)
        pipeline = bootstrap_for_pipeline(target, settings)  # the tasks log in as the pipeline role
        env = airflow_env(settings, pipeline, api_url, kafka_servers)
        with console.status("preparing Airflow metadata database"):
            ensure_metadata_db(env)
        yield target, env


def replay_point_of_sale(settings, kafka_servers: str | None, days: list[date]) -> None:
    """On the embedded broker (never a configured Kafka), the simulator's events of ``days``
    not on the topic yet: the shops' side of the demo, as the demo API is the CRM's."""
    if kafka_servers is None or settings.kafka_bootstrap_servers or not days:
        return
    from sales_api.pos import TOPIC, publish_days

    with console.status("point-of-sale simulator: publishing"):
        sent = publish_days(kafka_servers, days)
    if sent:
        span = f"{len(sent)} day" + ("s" if len(sent) != 1 else "")
        console.print(f"point-of-sale simulator: {sum(sent.values())} events of {span} to {TOPIC}")


def print_streams(target: Warehouse, days: list[date]) -> None:
    """One line per landed stream of a stream source, summed over ``days``."""
    streamed = streamed_sources()
    if not streamed:
        return
    with reader_session(target) as conn:
        for name, source in streamed.items():
            for stream in source.streams:
                accepted, rejected, batches = conn.execute(
                    "select coalesce(sum(accepted), 0), coalesce(sum(rejected), 0), count(*)"
                    " from audit.batches where source = %s and stream = %s"
                    " and (interval_start at time zone 'UTC')::date = any(%s)",
                    (name, stream, days),
                ).fetchone()
                if batches:
                    console.print(f"{name}.{stream} accepted={accepted} rejected={rejected}", highlight=False)


def run_days(
    days: list[date], env: dict[str, str], *, skip_ingest: bool = False, conf: dict | None = None
) -> list[RunOutcome]:
    """Run ``sales_elt`` for each day in order; stop at the first failure."""
    outcomes: list[RunOutcome] = []
    for day in days:
        with console.status(f"sales_elt for {day}"):
            outcome = run_day(day, env, get_settings().home / "logs", skip_ingest=skip_ingest, conf=conf)
        outcomes.append(outcome)
        if not outcome.ok:
            err.print(f"[red]✗[/] sales_elt {day}: {outcome.reason}\n  log: {outcome.log_path}")
            break
        console.print(f"[green]✓[/] sales_elt {day}")
    return outcomes


def gold_counts(target: Warehouse) -> dict[str, int]:
    """The rows of each gold table of the dbt project (its manifest), by name."""
    from psycopg import sql

    from liftoff.transform.gold_assets import gold_tables

    counts = {}
    with reader_session(target) as conn:
        for name in gold_tables():
            table = sql.Identifier(GOLD_SCHEMA, name)
            counts[name] = int(conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()[0])
    return counts


def print_gold(target: Warehouse, as_of: date) -> None:
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
    with reader_session(target) as conn:
        for name, query in queries.items():
            cur = conn.execute(query, (as_of,))
            table = Table(title=f"{name} (as of {as_of})", title_justify="left")
            for column in cur.description:
                table.add_column(column.name, justify="right" if column.name != "product" else "left")
            for row in cur.fetchall():
                table.add_row(*(str(value) for value in row))
            console.print(table)


def run_through_deployment(login, days: list[date], conf: dict | None = None) -> bool:
    """Run each day through the running ``liftoff airflow`` (its scheduler), in order."""
    from liftoff.local.airflow_api import AirflowApi

    api = AirflowApi(login)
    refuse_paused(api)
    settings = get_settings()
    replay_point_of_sale(settings, embedded_kafka(settings), days)
    for day in days:
        run, how = api.run_day(DAG_ID, day, conf)
        console.print(f"sales_elt {day}: {how} run {run.run_id} on {login.url}", soft_wrap=True)
        with console.status(f"sales_elt for {day} (Airflow at {login.url})"):
            state = api.wait(DAG_ID, run.run_id)
        if state != "success":
            err.print(f"[red]✗[/] sales_elt {day}: {state}  {run.url}", soft_wrap=True)
            for task_id, url in api.failed_tasks(DAG_ID, run.run_id):
                err.print(f"  failed: {task_id}  {url}", soft_wrap=True)
            return False
        console.print(f"[green]✓[/] sales_elt {day}  {run.url}", soft_wrap=True)
    return True


def refuse_paused(api) -> None:
    """A paused DAG runs nothing, not even a trigger: say so rather than wait for ever."""
    if api.is_paused(DAG_ID):
        raise Refused(
            f"{DAG_ID} is paused in Airflow ({api.login.url}/dags/{DAG_ID}): unpause it (the switch"
            " beside its name) to run days"
        )


def run_or_route(days: list[date], *, skip_ingest: bool = False, conf: dict | None = None) -> bool:
    """Run the days: through the running ``liftoff airflow`` if there is one, else each with
    ``airflow dags test`` on the embedded default."""
    from liftoff.local.airflow_deployment import running_deployment

    login = running_deployment(get_settings())
    if login is not None:
        console.print(
            f"Airflow runs on this home ({login.url}): the days go through its scheduler", soft_wrap=True
        )
        return run_through_deployment(
            login, days, {**(conf or {}), **({SKIP_INGEST: True} if skip_ingest else {})}
        )
    return run_embedded(days, skip_ingest=skip_ingest, conf=conf)


def run_embedded(days: list[date], *, skip_ingest: bool = False, conf: dict | None = None) -> bool:
    """Run the days one after another with ``airflow dags test`` on the embedded default."""
    with embedded_session(days) as (_, env):
        return all(outcome.ok for outcome in run_days(days, env, skip_ingest=skip_ingest, conf=conf))


def refuse_unended(days: list[date], partial_day: bool) -> None:
    """A day that has not started is refused; today only with ``--partial-day``."""
    today = datetime.now(UTC).date()
    if future := [day for day in days if day > today]:
        raise Refused(f"{future[0]} has not started yet (UTC): there is nothing to run")
    if not partial_day and today in days:
        raise Refused(day_not_ended(today, "a run covers a whole day; pass --partial-day to run it anyway"))
