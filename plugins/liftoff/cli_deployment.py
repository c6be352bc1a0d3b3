"""`liftoff deployment`: the team deployment's `.env` (liftoff.deployment_env)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from liftoff import deployment_env

deployment_app = typer.Typer(help="The team deployment (docker compose): its .env.", no_args_is_help=True)


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
