"""``liftoff sources`` (the sources of include/sources.yaml and their connectors) and
``liftoff derive`` (the dbt files derived from them)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from liftoff.cli.common import console, one_line_errors
from liftoff.cli.sessions import owner_connection, reader_session
from liftoff.config import get_settings, load_sources
from liftoff.errors import Refused


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
        raise Refused(f"source {name} is a {source.kind} source: only a PyPI connector's has a check")
    install(ConnectorPackage.parse(source.connector.package), settings.connectors_dir)
    checked_catalog(name, source, settings, None)
    console.print(f"{name}: ok ({source.connector.package}; streams {', '.join(source.streams)} found)")


def _source(name: str):
    sources = load_sources()
    if name not in sources:
        raise Refused(f"no source {name} in include/sources.yaml (it has: {', '.join(sources)})")
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
