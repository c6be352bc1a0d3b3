"""The ``liftoff`` command: run the platform on the embedded default (the whole platform on
one machine, ``liftoff.local``), one day or a demo week.

Each command (group) lives in its own module; this one puts them together, in the order
``liftoff --help`` lists them."""

from __future__ import annotations

import typer

from liftoff.cli import (
    archive,
    contracts,
    deployment,
    quarantine,
    runs,
    services,
    sources,
    validate,
    warehouse,
)

app = typer.Typer(
    help="LiftOff Data: the daily sales ELT platform.", no_args_is_help=True, pretty_exceptions_enable=False
)

app.command()(runs.demo)
app.command()(runs.run)
app.command()(runs.backfill)
app.command("airflow")(runs.airflow_command)
app.command("validate")(validate.validate_file_command)
app.command("bootstrap")(warehouse.bootstrap_command)
app.command()(sources.derive)
app.command()(warehouse.sql)
app.command("kafka")(services.kafka_command)
app.command("app")(services.entry_app)

app.add_typer(archive.archive_app, name="archive")
app.add_typer(sources.sources_app, name="sources")
app.add_typer(contracts.contracts_app, name="contracts")
app.add_typer(deployment.deployment_app, name="deployment")  # the team deployment's .env
app.add_typer(quarantine.quarantine_app, name="quarantine")
