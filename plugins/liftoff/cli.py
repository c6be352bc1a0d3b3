"""The ``liftoff`` command: run the platform on the embedded default, one day or a demo week."""

from __future__ import annotations

import enum
import functools
import json
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from liftoff.archive.archiver import ArchiveError
from liftoff.archive.catalog import catalog_inbox
from liftoff.archive.location import configured_store
from liftoff.archive.restore import restore_day
from liftoff.archive.store import StoreError
from liftoff.config import (
    ConfigError,
    StreamConfig,
    Unavailable,
    disable_telemetry,
    first_line,
    get_settings,
    load_sources,
    redacted_url,
    streamed_sources,
)
from liftoff.dag_defaults import DAG_ID, START_DATE
from liftoff.ingest.skipping import SKIP_INGEST
from liftoff.local.airflow_runner import RunOutcome, airflow_env, ensure_metadata_db, run_day
from liftoff.local.services import (
    demo_api,
    embedded_kafka,
    home_broker,
    run_lock,
    running_kafka,
    running_warehouse,
)
from liftoff.validate.files import UnreadableFile, validate_file
from liftoff.validate.quarantine import UnknownBatch, list_quarantine, replay_batch
from liftoff.warehouse.bootstrap import bootstrap, bootstrap_for_pipeline
from liftoff.warehouse.location import Warehouse
from liftoff.warehouse.roles import READER_ROLE, connect_as_helper
from liftoff_contracts import CONTRACTS, contract_columns, contract_version
from liftoff_contracts.export import CONTRACTS_DOCS_DIR, export_json_schemas

app = typer.Typer(
    help="LiftOff Data: the daily sales ELT platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the width


class FileFormatChoice(enum.StrEnum):
    jsonl = "jsonl"
    csv = "csv"


GOLD_TABLES = ("gold_sales_by_product_7d", "gold_sales_by_seller_7d", "gold_sales_daily")


def one_line_errors(command):
    """Configuration problems and unreachable services end the command with one line on
    stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (ConfigError, Unavailable) as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None

    return wrapper


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


def warn(line: str) -> None:
    err.print(f"[yellow]{line}[/]", soft_wrap=True)


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
    with reader_session(target) as conn:
        return {
            name: int(conn.execute(f"select count(*) from gold.{name}").fetchone()[0]) for name in GOLD_TABLES
        }


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


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


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
        raise ConfigError(
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
        raise ConfigError(f"{future[0]} has not started yet (UTC): there is nothing to run")
    if not partial_day and today in days:
        raise ConfigError(
            f"{today} has not ended yet (UTC): a run covers a whole day; pass --partial-day to run it anyway"
        )


@app.command()
@one_line_errors
def demo(
    days: Annotated[int, typer.Option(min=1, max=366, help="How many past days to run, oldest first.")] = 7,
    dirty_fraction: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Share of dirty rows the demo API injects.")
    ] = None,
) -> None:
    """Run sales_elt through Airflow for each of the last N complete days, then show gold."""
    from liftoff.local.airflow_deployment import running_deployment

    today = datetime.now(UTC).date()
    run_for = [today - timedelta(days=offset) for offset in range(days, 0, -1)]
    settings = get_settings()
    if (login := running_deployment(settings)) is not None:  # `liftoff airflow` runs: through it
        if dirty_fraction is not None:
            raise ConfigError("Airflow runs on this home with a clean demo API: stop it for a dirty demo")
        console.print(
            f"Airflow runs on this home ({login.url}): the days go through its scheduler", soft_wrap=True
        )
        if not run_through_deployment(login, run_for):
            raise typer.Exit(1)
        with running_warehouse(settings) as target:
            print_gold(target, run_for[-1])
            print_streams(target, run_for)
            counts = gold_counts(target)
    else:
        with embedded_session(run_for, dirty_fraction) as (target, env):
            if not all(outcome.ok for outcome in run_days(run_for, env)):
                raise typer.Exit(1)
            print_gold(target, run_for[-1])
            print_streams(target, run_for)
            counts = gold_counts(target)
    console.print(
        "gold: " + " ".join(f"{name}={counts[name]}" for name in GOLD_TABLES), soft_wrap=True, highlight=False
    )


@app.command()
@one_line_errors
def run(
    day: Annotated[str, typer.Option("--date", help="The day of data to process (YYYY-MM-DD, UTC).")],
    skip_ingest: Annotated[
        bool, typer.Option(help="Keep landing as it is (e.g. restored from the archive): no re-sync.")
    ] = False,
    accept_low_volume: Annotated[
        bool, typer.Option(help="The day is really this quiet: let a stream under its usual volume pass.")
    ] = False,
    partial_day: Annotated[
        bool, typer.Option(help="Run a day that has not ended yet (UTC): its gold covers part of it.")
    ] = False,
    replace_smaller_archive: Annotated[
        bool, typer.Option(help="The source really lost rows: let fewer rows replace the day's archive.")
    ] = False,
) -> None:
    """Run sales_elt for one day of data (rerunning a day replaces it).

    With `liftoff airflow` running on this home, the day goes through its scheduler: the
    day's run (the scheduler's own, say) is rerun, never doubled.
    """
    run_for = _parse_day(day)  # a bad date is refused before any service starts
    refuse_unended([run_for], partial_day)
    flags = {
        "accept_low_volume": accept_low_volume,
        "partial_day": partial_day,
        "replace_smaller_archive": replace_smaller_archive,
    }
    if not run_or_route(
        [run_for], skip_ingest=skip_ingest, conf={key: True for key, on in flags.items() if on}
    ):
        raise typer.Exit(1)


@app.command()
@one_line_errors
def backfill(
    first: Annotated[str, typer.Option("--from", help="The first day (YYYY-MM-DD, UTC).")],
    last: Annotated[str, typer.Option("--to", help="The last day, included.")],
    max_active_runs: Annotated[
        int, typer.Option(min=1, max=16, help="Days ingesting at once (with liftoff airflow).")
    ] = 3,
    reprocess: Annotated[
        str,
        typer.Option(
            help="With liftoff airflow: failed (missing and failed days) or completed (every day"
            " again). Without it every day runs again."
        ),
    ] = "failed",
) -> None:
    """Run sales_elt for a range of days (a backfill).

    With `liftoff airflow` running, as one Airflow backfill on its scheduler (days sync
    side by side, transform in date order); else one day after another.
    """
    from liftoff.local.airflow_api import AirflowApi
    from liftoff.local.airflow_deployment import running_deployment

    start, end = _parse_day(first), _parse_day(last)
    if end < start:
        raise typer.BadParameter(f"--to {end} is before --from {start}")
    if reprocess not in {"failed", "completed"}:
        raise typer.BadParameter(f"--reprocess must be failed or completed, got {reprocess!r}")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    refuse_unended(days, partial_day=False)
    if start < START_DATE.date():
        raise ConfigError(f"{DAG_ID} starts on {START_DATE.date()}: there is no run before it")
    login = running_deployment(get_settings())
    if login is None:
        console.print(
            "no Airflow runs on this home (liftoff airflow): the days run one after another", soft_wrap=True
        )
        if not run_embedded(days):
            raise typer.Exit(1)
        return
    api = AirflowApi(login)
    refuse_paused(api)
    backfill_id = api.backfill(DAG_ID, start, end, max_active_runs=max_active_runs, reprocess=reprocess)
    console.print(
        f"backfill {backfill_id} of {start}..{end} on {login.url}/dags/{DAG_ID} (Backfills)", soft_wrap=True
    )
    reported: set[date] = set()
    with console.status(f"backfill {backfill_id}: {len(days)} days") as status:
        while True:
            done = api.backfill_done(backfill_id)  # before the runs: none may finish unseen
            for run in api.runs_between(DAG_ID, start, end):
                if run.state in {"success", "failed"} and run.day not in reported:
                    reported.add(run.day)
                    mark = "[green]✓[/]" if run.state == "success" else "[red]✗[/]"
                    console.print(f"{mark} sales_elt {run.day}  {run.url}", soft_wrap=True)
            status.update(f"backfill {backfill_id}: {len(reported)} of {len(days)} days finished")
            if done:
                break
            time.sleep(5)
    failed = [run.day for run in api.runs_between(DAG_ID, start, end) if run.state != "success"]
    if failed:
        err.print(
            f"[red]{len(failed)} days failed[/] ({', '.join(map(str, failed))}): docs/runbook.md",
            soft_wrap=True,
        )
        raise typer.Exit(1)


@app.command("airflow")
@one_line_errors
def airflow_command(
    port: Annotated[int | None, typer.Option(help="The UI's port (else LIFTOFF_AIRFLOW_PORT, 8080).")] = None,
) -> None:
    """Run Airflow (UI, REST API, scheduler) on the embedded default until Ctrl-C.

    The api-server, scheduler, dag-processor and triggerer as processes, with the warehouse
    and the demo APIs; `liftoff run` and `liftoff backfill` then go through its scheduler.
    """
    from liftoff.derive import check_current
    from liftoff.local.airflow_deployment import (
        AirflowProcesses,
        admin_password,
        deployment_dir,
        deployment_env,
        metadata_database,
        passwords_file,
        running_deployment,
        write_state,
    )
    from liftoff.local.ports import port_is_free

    disable_telemetry()
    settings = get_settings()
    check_current(load_sources())
    port = port or settings.airflow_port
    if (login := running_deployment(settings)) is not None:
        raise ConfigError(f"Airflow runs on this home already, at {login.url}")
    if not port_is_free(port):
        raise ConfigError(
            f"port {port} is taken: stop what uses it, or pass --port / set LIFTOFF_AIRFLOW_PORT"
        )
    folder = deployment_dir(settings)
    with (
        running_warehouse(settings) as target,
        demo_api(settings) as api_url,
        running_kafka(settings, warn) as kafka_servers,
    ):
        pipeline = bootstrap_for_pipeline(target, settings)
        with target.connect() as owner:
            metadata = metadata_database(owner, target, settings)
        admin_password(settings)  # made on the first start, kept in the home
        replay_point_of_sale(settings, kafka_servers, [datetime.now(UTC).date() - timedelta(days=1)])
        base = airflow_env(settings, pipeline, api_url, kafka_servers)
        env = deployment_env(base, metadata, folder, port, passwords=passwords_file(settings))
        processes = AirflowProcesses(env, folder / "components", port)
        state = write_state(folder, processes.url, "starting")
        stop_on_signals()  # a kill or a closed terminal stops it all, like Ctrl-C
        try:
            with console.status("starting Airflow (metadata migration, four components)"):
                processes.start()
            write_state(folder, processes.url, "up")
            source = (
                "LIFTOFF_AIRFLOW_ADMIN_PASSWORD"
                if settings.airflow_admin_password
                else passwords_file(settings)
            )
            console.print(f"Airflow UI and REST API: [bold]{processes.url}[/]  (Ctrl-C stops everything)")
            console.print(f"login: [bold]admin[/], password from {source}", soft_wrap=True)
            console.print(
                f"warehouse {target.safe_str()}  ·  metadata {metadata.safe_str()}  ·  logs {folder}",
                soft_wrap=True,
            )
            serve_until_stopped(
                "Airflow",
                lambda: (
                    None
                    if (name := processes.exited()) is None
                    else f"airflow {name} exited; see {processes.log_dir / (name + '.log')}"
                ),
            )
        except KeyboardInterrupt:  # while it was starting
            console.print("stopping Airflow")
        finally:
            processes.stop()
            state.unlink(missing_ok=True)


def serve_until_stopped(what: str, ended) -> None:
    """Until Ctrl-C (or SIGTERM, SIGHUP); ``ended()`` saying why a part stopped ends it in one line."""
    try:
        while (reason := ended()) is None:
            time.sleep(1)
        raise ConfigError(reason)
    except KeyboardInterrupt:
        console.print(f"stopping {what}")


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the command as Ctrl-C does: through its cleanup."""

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


archive_app = typer.Typer(help="The raw archive (MinIO or the local folder).", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("restore")
@one_line_errors
def archive_restore(
    source: Annotated[str, typer.Option(help="Source name, as in include/sources.yaml.")],
    stream: Annotated[str, typer.Option(help="Stream name.")],
    day: Annotated[str, typer.Option(help="The archived day (YYYY-MM-DD).")],
) -> None:
    """Load an archived day back into landing (raw_<source>.<stream>), replacing that day's rows."""
    store = configured_store()
    with owner_connection() as (target, conn):
        try:
            rows = restore_day(
                conn,
                target,
                store,
                source,
                stream,
                _parse_day(day),
                landing_owner=get_settings().pipeline_role,
            )
        except (ArchiveError, StoreError) as exc:
            raise ConfigError(str(exc)) from None
    console.print(f"restored {rows} rows of {source}.{stream} for {day} from {store}")
    console.print(f"rebuild the day from landing: liftoff run --date {day} --skip-ingest")


@archive_app.command("init")
@one_line_errors
def archive_init(
    pipeline_user: Annotated[
        str | None,
        typer.Option(
            help="Also make this MinIO user for the pipeline's tasks (read, write; never delete a version"
            " or switch versioning off); its secret: LIFTOFF_ARCHIVE_PIPELINE_SECRET."
        ),
    ] = None,
) -> None:
    """Make the archive's bucket with versioning on (MinIO/S3; nothing to do for a folder),
    as the archive's admin (LIFTOFF_ARCHIVE_URL with MinIO's root credentials)."""
    store = configured_store()
    ensure = getattr(store, "ensure_bucket", None)
    if pipeline_user and ensure is None:
        raise ConfigError("--pipeline-user is for a MinIO archive; the archive here is a folder")
    given = get_settings().archive_pipeline_secret
    secret = given.get_secret_value() if given else ""
    if pipeline_user and len(secret) < 8:
        raise ConfigError("set LIFTOFF_ARCHIVE_PIPELINE_SECRET (8 characters at least) for --pipeline-user")
    try:
        if ensure is not None:
            ensure()
        if pipeline_user:
            store.ensure_user(pipeline_user, secret)
    except StoreError as exc:
        raise Unavailable(str(exc)) from None
    console.print(f"archive ready: {store}" + (" (versioning on)" if ensure is not None else ""))
    if pipeline_user:
        console.print(f"the pipeline's user {pipeline_user}: read and write, no version deleted")


def first_stream_of(contract_name: str) -> StreamConfig | None:
    """The first stream in include/sources.yaml gated by this contract (its threshold, its key)."""
    for source in load_sources().values():
        for stream in source.streams.values():
            if stream.contract == contract_name:
                return stream
    return None


@app.command("validate")
def validate_file_command(
    contract: Annotated[str, typer.Argument(help="Contract name: " + ", ".join(sorted(CONTRACTS)))],
    file: Annotated[Path, typer.Argument(help="A JSONL or CSV file of rows.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Write the rejected rows, with their errors, as JSONL.")
    ] = None,
    max_reject_ratio: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Allowed rejected share (default: the stream's).")
    ] = None,
    file_format: Annotated[
        FileFormatChoice | None, typer.Option("--format", help="Default: by extension.")
    ] = None,
) -> None:
    """Check a file against a contract. Exit 0 within the threshold, 1 over it, 2 if unreadable."""
    if contract not in CONTRACTS:
        err.print(f"[bold red]error:[/] unknown contract {contract!r}; known: {', '.join(sorted(CONTRACTS))}")
        raise typer.Exit(2)
    stream = first_stream_of(contract)
    default_threshold = stream.max_reject_ratio if stream else 0.0
    threshold = max_reject_ratio if max_reject_ratio is not None else default_threshold
    try:
        report = validate_file(
            file,
            contract,
            CONTRACTS[contract],
            rejects_path=rejects,
            file_format=file_format.value if file_format else None,
            derived_key=stream.primary_key if stream else None,  # a CSV may leave its key to the writer
        )
    except UnreadableFile as exc:
        if as_json:
            print(json.dumps({"contract": contract, "error": str(exc)}))
        else:
            err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report.as_json()))
    else:
        verdict = "[green]within[/]" if report.reject_ratio <= threshold else "[red]over[/]"
        console.print(
            f"{contract} v{report.version}: rows={report.rows} accepted={report.accepted} "
            f"rejected={report.rejected} ({report.reject_ratio:.1%}, {verdict} {threshold:.1%})"
        )
        for name, count in report.errors_by_field.most_common():
            console.print(f"  {name}: {count}")
    raise typer.Exit(0 if report.reject_ratio <= threshold else 1)


@app.command("bootstrap")
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


@app.command()
@one_line_errors
def derive(
    check: Annotated[
        bool, typer.Option(help="Only report stale files (exit 1 if any); write nothing.")
    ] = False,
) -> None:
    """Write the dbt files derived from include/sources.yaml (dbt sources, bronze models).

    `make manifest` runs it before `dbt parse`; edit sources.yaml, then run that.
    """
    from liftoff.derive import stale_files, write_derived

    sources = load_sources()
    if check:
        stale = stale_files(sources)
        for path in stale:
            console.print(f"stale: include/dbt/{path}")
        raise typer.Exit(1 if stale else 0)
    changed = write_derived(sources)
    console.print(f"derived files: {len(changed)} written or removed" + "".join(f"\n  {p}" for p in changed))


sources_app = typer.Typer(
    help="The sources of include/sources.yaml and their connectors.", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")


@sources_app.command("add")
@one_line_errors
def sources_add(
    name: Annotated[str, typer.Argument(help="The new source's name (raw_<name> is its landing schema).")],
    connector: Annotated[str, typer.Option(help="The connector: airbyte-source-NAME==VERSION from PyPI.")],
    config: Annotated[
        str, typer.Option(help="The connector's config without its secrets: JSON, or @file (JSON or YAML).")
    ] = "{}",
    streams: Annotated[
        str | None, typer.Option(help="The streams to sync (comma-separated); all if unset.")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            help="PATH=ENV_VAR or PATH=connection:CONN_ID[:FIELD]: where a secret field is kept,"
            " an environment variable (default LIFTOFF_<NAME>_<PATH>) or an Airflow connection."
        ),
    ] = None,
    full_refresh: Annotated[
        str | None, typer.Option(help="Streams to land as whole snapshots (comma-separated).")
    ] = None,
    primary_key: Annotated[
        list[str] | None, typer.Option(help="STREAM=FIELD: the primary key of a stream with none of its own.")
    ] = None,
    cursor: Annotated[
        list[str] | None, typer.Option(help="STREAM=FIELD: the cursor of a stream with none of its own.")
    ] = None,
) -> None:
    """Add a source from Airbyte's catalog: install, check, discover, scaffold its contracts."""
    from liftoff.config import ConnectorConfig
    from liftoff.ingest.adding import add_source, read_config
    from liftoff.ingest.secrets import describe

    added = add_source(
        name,
        connector,
        read_config(config),
        get_settings(),
        streams=_names(streams),
        secrets=secret or [],
        full_refresh=_names(full_refresh) or [],
        primary_keys=primary_key or [],
        cursors=cursor or [],
    )
    console.print(f"added source {name} ({connector}) with {len(added.entry['streams'])} stream(s):")
    for stream, entry in added.entry["streams"].items():
        cursor_text = f", cursor {entry['cursor_field']}" if "cursor_field" in entry else ""
        console.print(
            f"  {stream}: {entry['sync']}, key {entry['primary_key']}{cursor_text},"
            f" contract {entry['contract']}"
        )
    for path, reference in ConnectorConfig.model_validate(added.entry["connector"]).secrets.items():
        console.print(f"  secret {path} from {describe(reference)}")
    console.print("wrote (review the contracts):" + "".join(f"\n  {path}" for path in added.files))
    console.print(f"next: `liftoff bootstrap`, then `liftoff run --date YYYY-MM-DD` (raw_{name} to bronze)")


def _names(text: str | None) -> list[str] | None:
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    return names or None


@sources_app.command("list")
@one_line_errors
def sources_list() -> None:
    """Every source: how its rows arrive, its connector, its streams."""
    from liftoff.ingest.adding import describe

    table = Table(title="include/sources.yaml", title_justify="left")
    for column in ("source", "kind", "connector", "streams"):
        table.add_column(column)
    for name, source in load_sources().items():
        table.add_row(*describe(name, source).values())
    console.print(table)


@sources_app.command("check")
@one_line_errors
def sources_check(name: Annotated[str, typer.Argument(help="A source of include/sources.yaml.")]) -> None:
    """Install the source's connector if needed and run its `check` with the entry's config."""
    from liftoff.ingest.connector_sync import checked_catalog
    from liftoff.ingest.connectors import ConnectorPackage, install

    settings = get_settings()
    source = _source(name)
    if source.connector is None:
        raise ConfigError(f"source {name} is a {source.kind} source: only a PyPI connector's has a check")
    install(ConnectorPackage.parse(source.connector.package), settings.connectors_dir)
    checked_catalog(name, source, settings, None)
    console.print(f"{name}: ok ({source.connector.package}; streams {', '.join(source.streams)} found)")


def _source(name: str):
    sources = load_sources()
    if name not in sources:
        raise ConfigError(f"no source {name} in include/sources.yaml (it has: {', '.join(sources)})")
    return sources[name]


@sources_app.command("install")
@one_line_errors
def sources_install(
    name: Annotated[str | None, typer.Argument(help="One source; every connector source if unset.")] = None,
) -> None:
    """Install the connectors sources.yaml names (the image runs it at build time)."""
    from liftoff.ingest.connectors import ConnectorPackage, install

    settings = get_settings()
    sources = {name: _source(name)} if name else load_sources()
    for source_name, source in sources.items():
        if source.connector is None:
            continue
        package = ConnectorPackage.parse(source.connector.package)
        path = install(package, settings.connectors_dir)
        console.print(f"{source_name}: {package} in {path.parent.parent}")


@sources_app.command("changes")
@one_line_errors
def sources_changes(
    name: Annotated[str | None, typer.Argument(help="One source; all if unset.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """The schema changes syncs found (fields added, removed, retyped upstream), newest first."""
    with owner_connection() as (target, _), reader_session(target) as conn:
        rows = conn.execute(
            "select source, stream, field, change, coalesce(old_type, ''), coalesce(new_type, ''),"
            " interval_start::date::text, detected_at::timestamp(0)::text from audit.schema_changes"
            " where %(source)s::text is null or source = %(source)s"
            " order by detected_at desc, source, stream, field limit %(limit)s",
            {"source": name, "limit": limit},
        ).fetchall()
    if not rows:
        console.print("no schema changes found yet" + (f" for {name}" if name else ""))
        return
    table = Table(title=f"audit.schema_changes ({len(rows)} shown)", title_justify="left")
    for column in ("source", "stream", "field", "change", "was", "now", "day", "found at"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


contracts_app = typer.Typer(help="The data contracts.", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")

from liftoff.cli_deployment import deployment_app  # noqa: E402  (the team deployment's .env)

app.add_typer(deployment_app, name="deployment")


@contracts_app.command("list")
def contracts_list() -> None:
    """The contracts and their versions."""
    for name, model in sorted(CONTRACTS.items()):
        console.print(f"{name}  v{contract_version(model)}  {', '.join(contract_columns(model))}")


@contracts_app.command("export")
def contracts_export(
    out: Annotated[Path, typer.Option(help="Folder for <contract>.schema.json files.")] = CONTRACTS_DOCS_DIR,
) -> None:
    """Write each contract as JSON Schema (published in docs/contracts)."""
    for path in export_json_schemas(out):
        console.print(f"wrote {path}")


quarantine_app = typer.Typer(help="Rows the contracts rejected.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


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
            raise ConfigError(str(exc)) from None
    console.print(
        f"{result.batch_id}: replayed {result.replayed} rows with contract v{result.contract_version}: "
        f"{result.moved} moved into the batch, {result.still_rejected} still rejected"
    )
    if result.moved:
        console.print(f"rebuild the layers for that day: liftoff run --date {result.day}")


@app.command()
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
                raise ConfigError("liftoff sql runs one statement: remove the ';' and what follows") from None
            raise ConfigError(f"the query failed: {first_line(exc)}") from None
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


@archive_app.command("catalog")
@one_line_errors
def archive_catalog() -> None:
    """Catalog the files dropped under inbox/ (what the files_catalog DAG runs every hour)."""
    store = configured_store()
    with owner_session() as conn:
        try:
            entries = catalog_inbox(conn, store)
        except StoreError as exc:
            raise ConfigError(str(exc)) from None
    table = Table(title=f"inbox of {store}: {len(entries)} files", title_justify="left")
    for column in ("inbox key", "status", "now at / reason"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            entry.inbox_key, entry.status, entry.key if entry.status == "accepted" else entry.reason
        )
    console.print(table)


@app.command("kafka")
@one_line_errors
def kafka_command() -> None:
    """Run the embedded Kafka broker (KRaft, one node) in the foreground until Ctrl-C.

    Its log folder is $LIFTOFF_HOME/kafka; each stream source's topic (pos.sales) is made if
    missing (CreateTime timestamps, so the simulator can replay past days: python -m sales_api.pos).
    """
    from liftoff.stream.topics import create_topic, source_topics

    settings = get_settings()
    broker = home_broker(settings)
    stop_on_signals()
    try:
        with console.status("starting Kafka"):
            broker.start()
        topics = source_topics(streamed_sources(settings))
        for topic in topics:
            create_topic(broker.bootstrap_servers, topic)
        named = ", ".join(topics) or "none"
        console.print(f"Kafka on [bold]{broker.bootstrap_servers}[/], topics {named}  (Ctrl-C stops it)")
        serve_until_stopped(
            "Kafka",
            lambda: (
                None
                if broker.process.poll() is None
                else f"the Kafka broker exited; see {broker.root / 'broker.log'}"
            ),
        )
    except KeyboardInterrupt:  # while it was starting
        console.print("stopping Kafka")
    finally:
        broker.stop()


@app.command("app")
@one_line_errors
def entry_app(
    port: Annotated[int, typer.Option(help="Port to serve the app on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container).")] = "127.0.0.1",
) -> None:
    """Start the sales entry app and the dashboards (Streamlit) on the warehouse.

    With LIFTOFF_ANALYST_URL and LIFTOFF_ENTRY_URL (a deployment whose bootstrap made the
    roles) it logs in as those only; else it bootstraps the warehouse as its owner first.
    """
    import os
    import subprocess
    import sys

    from liftoff.config import TELEMETRY_OFF
    from liftoff.entry.launch import app_env, streamlit_command

    disable_telemetry()
    settings = get_settings()
    if settings.analyst_url and settings.entry_url:  # a deployment's roles, made by its bootstrap
        console.print(
            f"entry app on [bold]http://{host}:{port}[/]  ·  the analyst's and entry writer's logins"
        )
        os.execvpe(sys.executable, streamlit_command(port, host), {**os.environ, **TELEMETRY_OFF})
    with running_warehouse(settings) as target:
        env = app_env(settings, target)
        console.print(f"entry app on [bold]http://{host}:{port}[/]  ·  warehouse {target.safe_str()}")
        subprocess.run(streamlit_command(port, host), env=env, check=False)


if __name__ == "__main__":
    app()
