"""What every command shares: the consoles, the one-line error, the foreground loop."""

from __future__ import annotations

import functools
import signal
import time
from datetime import date

import typer
from rich.console import Console

from liftoff.errors import Permanent, Transient

console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the width


def one_line_errors(command):
    """Whatever a retry cannot fix (configuration, a refused request) and unreachable
    services end the command with one line on stderr and exit code 2 (``liftoff.errors``)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (Permanent, Transient) as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(2) from None

    return wrapper


def warn(line: str) -> None:
    err.print(f"[yellow]{line}[/]", soft_wrap=True)


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


def serve_until_stopped(what: str, ended) -> None:
    """Until Ctrl-C (or SIGTERM, SIGHUP); ``ended()`` saying why a part stopped ends it in one line."""
    try:
        while (reason := ended()) is None:
            time.sleep(1)
        raise Permanent(reason)
    except KeyboardInterrupt:
        console.print(f"stopping {what}")


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the command as Ctrl-C does: through its cleanup."""

    def interrupt(signum, frame) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
