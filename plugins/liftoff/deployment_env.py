"""The team deployment's `.env`: written from `.env.example` with a strong random value for
every placeholder secret (`liftoff deployment env`, `make env`), and checked by the compose
file's first service, deployment-check, before anything starts (`liftoff deployment check`):
no `change-me`, a valid Fernet key.

Values are never printed: only the names of the variables.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from liftoff.config import PROJECT_ROOT

EXAMPLE_PATH = PROJECT_ROOT / ".env.example"
ENV_PATH = PROJECT_ROOT / ".env"  # where Compose (the project directory) and the CLI read it
PLACEHOLDER = "change-me"
FERNET_KEY = "AIRFLOW_FERNET_KEY"
# Compared, never sent in a URL: hex, as Airflow's documentation generates them.
HEX_SECRETS = frozenset({"AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "LIFTOFF_SHOP_TOKEN"})
REMEDY = (
    "set a random one in .env, or write a new .env with every secret random: "
    "`make env` (liftoff deployment env)"
)

_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


class EnvFileExists(FileExistsError):
    """The output exists and `--force` was not given."""


def is_placeholder(name: str, value: str) -> bool:
    """A value to replace: a `change-me…`, or the Fernet key left empty."""
    return PLACEHOLDER in value or (name == FERNET_KEY and not value.strip())


def new_secret(name: str) -> str:
    """A strong random value for the variable ``name``: URL-safe (passwords go into URLs)."""
    if name == FERNET_KEY:
        return Fernet.generate_key().decode()
    if name in HEX_SECRETS:
        return secrets.token_hex(32)
    return secrets.token_urlsafe(24)


def _assignments(text: str) -> list[tuple[str, str]]:
    return [
        (match.group(1), match.group(2)) for line in text.splitlines() if (match := _ASSIGNMENT.match(line))
    ]


def placeholders(example_text: str) -> list[str]:
    """The variables of ``example_text`` that `render` gives a random value, in file order."""
    return [name for name, value in _assignments(example_text) if is_placeholder(name, value)]


@functools.cache
def secret_names() -> tuple[str, ...]:
    """Every secret .env.example leaves to `make env`, under its .env name, in file order.
    deployment-check gets each (docker-compose.yaml) for `liftoff deployment check`,
    which runs in the image (the Dockerfile copies the project, .env.example with it).

    Read on first use, not at import: a module imports without the project's files beside it.
    """
    return tuple(placeholders(EXAMPLE_PATH.read_text(encoding="utf-8")))


def render(example_text: str) -> str:
    """``example_text`` with a new random value for each placeholder; every other line verbatim."""
    out = []
    for line in example_text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = _ASSIGNMENT.match(body)
        if match and is_placeholder(match.group(1), match.group(2)):
            line = f"{match.group(1)}={new_secret(match.group(1))}{line[len(body) :]}"
        out.append(line)
    return "".join(out)


def _create_private(path: Path, text: str) -> None:
    """``path`` made with mode 0600 from the start (O_EXCL: never an existing file or link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may only have taken bits away: exactly 0600
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            fd = -1
            file.write(text)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise


def write(path: Path = ENV_PATH, force: bool = False, example: Path = EXAMPLE_PATH) -> list[str]:
    """Write ``path`` (mode 0600) from ``example`` with random secrets; the names generated.

    Without ``force`` an existing ``path`` is left as it is (EnvFileExists). With it, the new
    file replaces it at once (a private temporary file renamed over it).
    """
    example_text = example.read_text(encoding="utf-8")
    text = render(example_text)
    refusal = f"{path} exists: liftoff deployment env --force replaces it (every secret new)"
    if not force:
        try:
            _create_private(path, text)
        except FileExistsError:
            raise EnvFileExists(refusal) from None
        return placeholders(example_text)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _create_private(temporary, text)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return placeholders(example_text)


def valid_fernet_key(value: str) -> bool:
    """Whether Airflow can make its Fernet of ``value`` (comma-separated keys: a rotation)."""
    try:
        for part in value.split(","):
            Fernet(part.encode("utf-8"))
    except (ValueError, TypeError):
        return False
    return True


def check_env(environ: Mapping[str, str]) -> list[str]:
    """One line per secret of ``environ`` that must not start the deployment; none if all is well.

    A `change-me` placeholder anywhere in a secret, or a Fernet key Airflow cannot use (an
    empty one is allowed: the compose file leaves it optional, Airflow then stores unencrypted).
    Secrets absent from ``environ`` are Compose's to refuse (`${VAR:?}`). No value is shown.
    """
    problems = []
    for name in secret_names():
        value = environ.get(name)
        if value is None:
            continue
        if PLACEHOLDER in value:
            problems.append(f"{name} is still a `{PLACEHOLDER}` placeholder: {REMEDY}")
        elif name == FERNET_KEY and value and not valid_fernet_key(value):
            problems.append(f"{name} is not a valid Fernet key (32 url-safe base64-encoded bytes): {REMEDY}")
    return problems
