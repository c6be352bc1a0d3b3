"""`liftoff deployment`: the team deployment's `.env` (liftoff.deployment_env), its Airflow
logins (liftoff.deployment_users) and the entry app's sellers (liftoff.warehouse.roles)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from liftoff import deployment_env

deployment_app = typer.Typer(
    help="The team deployment (docker compose): its .env, its Airflow logins, its sellers.",
    no_args_is_help=True,
)


@deployment_app.command("env")
def deployment_env_command(
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace an existing file: every secret new (a deployment already up keeps its old ones).",
        ),
    ] = False,
    output: Annotated[Path, typer.Option(help="The file to write.")] = deployment_env.ENV_PATH,
) -> None:
    """Write .env from .env.example, every placeholder secret a strong random value (mode 0600)."""
    try:
        names = deployment_env.write(output, force=force)
    except deployment_env.EnvFileExists as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    except (FileNotFoundError, NotADirectoryError, PermissionError) as unwritable:
        typer.echo(f"error: {unwritable.filename}: {unwritable.strerror} (nothing written)", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {output} (mode 0600); random values for: {', '.join(names) or 'none'}")


@deployment_app.command("check")
def deployment_check(
    env_file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Check this file (e.g. .env), not the environment."),
    ] = None,
) -> None:
    """Refuse placeholder secrets and an invalid Fernet key (the deployment-check service runs it)."""
    if env_file is None:
        environ = dict(os.environ)
    else:
        from dotenv import dotenv_values

        environ = {key: value or "" for key, value in dotenv_values(env_file).items()}
    problems = deployment_env.check_env(environ)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("deployment secrets: no placeholder, the Fernet key valid or empty")


user_app = typer.Typer(
    help="The team deployment's Airflow logins (FAB auth manager): one per person, a role each.",
    no_args_is_help=True,
)
deployment_app.add_typer(user_app, name="user")


class UserRole(StrEnum):
    analyst = "analyst"
    oncall = "oncall"
    admin = "admin"


def read_password(from_stdin: bool, from_env: str | None) -> str:
    """The password: standard input's first line, an environment variable's value, else asked
    twice, hidden. Never an argument: none shows in a process list."""
    if from_stdin and from_env:
        raise typer.BadParameter("--password-stdin or --password-env, not both")
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if from_env:
        if not os.environ.get(from_env):
            raise typer.BadParameter(f"{from_env} is not set or empty", param_hint="--password-env")
        return os.environ[from_env]
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="The login's user name.")],
    email: Annotated[str, typer.Option(help="The person's e-mail address (unique).")],
    role: Annotated[
        UserRole,
        typer.Option(
            help="analyst: read only (FAB Viewer); oncall: clear, trigger, backfill (User); admin (Admin)."
        ),
    ],
    first_name: Annotated[str, typer.Option(help="Default: the user name.")] = "",
    last_name: Annotated[str, typer.Option()] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input's first line.")
    ] = False,
    password_env: Annotated[
        str | None,
        typer.Option(
            help="Read the password from this environment variable (airflow-init's AIRFLOW_ADMIN_PASSWORD)."
        ),
    ] = None,
    exists_ok: Annotated[
        bool, typer.Option("--exists-ok", help="A user of this name already there: leave it, exit 0.")
    ] = False,
) -> None:
    """Add a login (in an Airflow container: `docker compose exec airflow-apiserver liftoff ...`).

    The password: asked (hidden, twice), --password-stdin or --password-env; never an argument.
    """
    from liftoff import deployment_users

    password = read_password(password_stdin, password_env)
    try:
        added = deployment_users.add_user(
            name,
            email,
            role.value,
            password,
            first_name=first_name,
            last_name=last_name,
            exists_ok=exists_ok,
        )
    except deployment_users.UserError as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    fab_role = deployment_users.ROLES[role.value]
    if added:
        typer.echo(f"added {name} ({role.value}: FAB role {fab_role})")
    else:
        typer.echo(f"{name} exists already: left as it is")


@user_app.command("list")
def user_list() -> None:
    """The logins: user name, e-mail, role, active."""
    from liftoff import deployment_users

    try:
        logins = deployment_users.list_users()
    except deployment_users.UserError as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    for login in logins:
        state = "active" if login.active else "inactive"
        typer.echo(f"{login.username}\t{login.email}\t{deployment_users.our_role(login.roles)}\t{state}")


seller_app = typer.Typer(
    help="The entry app's logins (LIFTOFF_ENTRY_LOGIN=required): one warehouse login per salesperson.",
    no_args_is_help=True,
)
deployment_app.add_typer(seller_app, name="seller")


def _seller_command(action):
    """Run ``action(conn, settings)`` in the warehouse owner's session (bootstrapped): one line
    and exit 1 when refused, 2 when the warehouse cannot be reached or logged into."""
    from liftoff.cli.sessions import owner_session
    from liftoff.config import Unavailable, get_settings
    from liftoff.errors import Permanent

    try:
        with owner_session() as conn:
            return action(conn, get_settings())
    except Permanent as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None
    except Unavailable as down:
        typer.echo(f"error: {down}", err=True)
        raise typer.Exit(2) from None


@seller_app.command("add")
def seller_add(
    name: Annotated[str, typer.Argument(help="The login's name (lower-case letters, digits, _ . -).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input's first line.")
    ] = False,
    password_env: Annotated[
        str | None, typer.Option(help="Read the password from this environment variable.")
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="The seller exists: give it this new password.")
    ] = False,
) -> None:
    """Add a salesperson's login: a warehouse role, member of the entry writer (insert sales only).

    Runs with the warehouse owner's login (LIFTOFF_WAREHOUSE_URL or DB_*_PROD): in the team
    deployment `docker compose run --rm --no-deps airflow-init bash -c 'liftoff deployment seller add ana'`.
    The password: asked (hidden, twice), --password-stdin or --password-env; never an argument.
    """
    from pydantic import SecretStr

    from liftoff.warehouse.roles import add_seller

    password = SecretStr(read_password(password_stdin, password_env))
    added = _seller_command(lambda conn, settings: add_seller(conn, settings, name, password, reset=reset))
    typer.echo(f"added seller {name}" if added else f"seller {name}: new password set")


@seller_app.command("list")
def seller_list() -> None:
    """The sellers' logins."""
    from liftoff.warehouse.roles import list_sellers

    for name in _seller_command(list_sellers):
        typer.echo(name)


@seller_app.command("remove")
def seller_remove(name: Annotated[str, typer.Argument(help="The seller's login.")]) -> None:
    """Drop a seller's login (the sales it entered keep its name in entered_by)."""
    from liftoff.warehouse.roles import remove_seller

    _seller_command(lambda conn, settings: remove_seller(conn, settings, name))
    typer.echo(f"removed seller {name}")
