"""``liftoff archive``: the raw archive's bucket, its inbox catalog, a day restored."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from liftoff.archive.archiver import ArchiveError
from liftoff.archive.catalog import catalog_inbox
from liftoff.archive.location import configured_store
from liftoff.archive.restore import restore_day
from liftoff.archive.store import StoreError
from liftoff.cli.common import console, one_line_errors, parse_day
from liftoff.cli.sessions import owner_connection, owner_session
from liftoff.config import ConfigError, Unavailable, get_settings
from liftoff.errors import Refused

archive_app = typer.Typer(help="The raw archive (MinIO or the local folder).", no_args_is_help=True)


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
                parse_day(day),
                landing_owner=get_settings().pipeline_role,
            )
        except (ArchiveError, StoreError) as exc:
            raise Refused(str(exc)) from None
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
        raise Refused("--pipeline-user is for a MinIO archive; the archive here is a folder")
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


@archive_app.command("catalog")
@one_line_errors
def archive_catalog() -> None:
    """Catalog the files dropped under inbox/ (what the files_catalog DAG runs every hour)."""
    store = configured_store()
    with owner_session() as conn:
        try:
            entries = catalog_inbox(conn, store)
        except StoreError as exc:
            raise Refused(str(exc)) from None
    table = Table(title=f"inbox of {store}: {len(entries)} files", title_justify="left")
    for column in ("inbox key", "status", "now at / reason"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            entry.inbox_key, entry.status, entry.key if entry.status == "accepted" else entry.reason
        )
    console.print(table)
