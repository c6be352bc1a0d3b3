"""``liftoff demo``, ``run``, ``backfill`` and ``airflow``: the pipeline's days, and Airflow."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer

from liftoff.batch import PARTIAL_DAY
from liftoff.cli.common import (
    console,
    err,
    one_line_errors,
    parse_day,
    serve_until_stopped,
    stop_on_signals,
    warn,
)
from liftoff.cli.days import (
    embedded_session,
    gold_counts,
    print_gold,
    print_streams,
    refuse_paused,
    refuse_unended,
    replay_point_of_sale,
    run_days,
    run_embedded,
    run_or_route,
    run_through_deployment,
)
from liftoff.config import disable_telemetry, get_settings, load_sources
from liftoff.dag_defaults import DAG_ID, START_DATE
from liftoff.errors import Refused
from liftoff.local.airflow_runner import airflow_env
from liftoff.local.services import demo_api, running_kafka, running_warehouse
from liftoff.warehouse.bootstrap import bootstrap_for_pipeline


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
            raise Refused("Airflow runs on this home with a clean demo API: stop it for a dirty demo")
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
    summary = " ".join(f"{name}={rows}" for name, rows in counts.items())
    console.print(f"gold: {summary}", soft_wrap=True, highlight=False)


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
    run_for = parse_day(day)  # a bad date is refused before any service starts
    refuse_unended([run_for], partial_day)
    flags = {
        "accept_low_volume": accept_low_volume,
        PARTIAL_DAY: partial_day,
        "replace_smaller_archive": replace_smaller_archive,
    }
    if not run_or_route(
        [run_for], skip_ingest=skip_ingest, conf={key: True for key, on in flags.items() if on}
    ):
        raise typer.Exit(1)


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
    side by side, silver and gold in date order); else one day after another.
    """
    from liftoff.local.airflow_api import AirflowApi
    from liftoff.local.airflow_deployment import running_deployment

    start, end = parse_day(first), parse_day(last)
    if end < start:
        raise typer.BadParameter(f"--to {end} is before --from {start}")
    if reprocess not in {"failed", "completed"}:
        raise typer.BadParameter(f"--reprocess must be failed or completed, got {reprocess!r}")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    refuse_unended(days, partial_day=False)
    if start < START_DATE.date():
        raise Refused(f"{DAG_ID} starts on {START_DATE.date()}: there is no run before it")
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
        raise Refused(f"Airflow runs on this home already, at {login.url}")
    if not port_is_free(port):
        raise Refused(f"port {port} is taken: stop what uses it, or pass --port / set LIFTOFF_AIRFLOW_PORT")
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
