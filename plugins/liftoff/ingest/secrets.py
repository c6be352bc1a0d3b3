"""Where a connector's secret fields are kept: an environment variable, or an Airflow connection.

An entry's ``secrets:`` names, per secret field (a dotted path of the connector's config),
the place its value is read at run time, never the value:

- ``HUBSPOT_TOKEN``: an environment variable of the workers;
- ``{connection: hubspot}``: the password of the Airflow connection ``hubspot``, wherever
  Airflow keeps it (the metadata database, where ``airflow connections add`` and the UI put
  it; a secrets backend such as Vault; an ``AIRFLOW_CONN_HUBSPOT`` variable), or another of
  its fields: ``{connection: hubspot, field: login}`` (``login``, ``password``, ``host``,
  ``schema``, or a key of its extras).

``liftoff sources add`` takes the same as ``--secret PATH=ENV_VAR`` or
``--secret PATH=connection:CONN_ID[:FIELD]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from liftoff.config import ConfigError, ConnectionSecret

SecretReference = str | ConnectionSecret
CONNECTION_PREFIX = "connection:"
_ATTRIBUTES = ("login", "password", "host", "schema")


def parse_reference(text: str) -> SecretReference:
    """``ENV_VAR`` or ``connection:CONN_ID[:FIELD]`` (``--secret``'s right-hand side)."""
    if not text.startswith(CONNECTION_PREFIX):
        return text
    conn_id, _, field = text.removeprefix(CONNECTION_PREFIX).partition(":")
    try:
        return ConnectionSecret(connection=conn_id, **({"field": field} if field else {}))
    except ValidationError:
        raise ConfigError(
            f"{text!r}: write connection:CONN_ID or connection:CONN_ID:FIELD (letters, digits, _ . -)"
        ) from None


def describe(reference: SecretReference) -> str:
    """Where the secret is read, for people: ``$HUBSPOT_TOKEN``, ``Airflow connection hubspot (password)``."""
    if isinstance(reference, ConnectionSecret):
        return f"Airflow connection {reference.connection} ({reference.field})"
    return f"${reference}"


def as_entry(reference: SecretReference) -> str | dict:
    """The reference as sources.yaml writes it."""
    if isinstance(reference, ConnectionSecret):
        return reference.model_dump(exclude_defaults=True)
    return reference


def lookup(
    reference: SecretReference, env: Mapping[str, str], connections: dict[str, Any] | None = None
) -> str | None:
    """The secret's value, or None when its variable, its connection or the connection's
    field is missing or empty. ``connections``, when given, keeps each connection fetched (or
    None, not found) by its id: the secrets of one config fetch each connection once."""
    if isinstance(reference, str):
        return env.get(reference) or None
    connections = {} if connections is None else connections
    if reference.connection not in connections:
        connections[reference.connection] = _found_connection(reference.connection)
    connection = connections[reference.connection]
    if connection is None:
        return None
    if reference.field in _ATTRIBUTES:
        value = getattr(connection, reference.field)
    else:
        value = connection.extra_dejson.get(reference.field)
    return str(value) if value not in (None, "") else None


def _found_connection(conn_id: str):
    """The connection (``airflow_connection``), or None when Airflow finds none."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return airflow_connection(conn_id)
    except AirflowNotFoundException:
        return None


def airflow_connection(conn_id: str):
    """The connection as Airflow finds it here: in a task, through the Task SDK (the API
    server's); elsewhere (``liftoff sources add``, ``sources check``) through Airflow's secrets
    backends in order, the metadata database among them, which the Task SDK outside a task
    does not read."""
    import sys

    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    if getattr(runner, "SUPERVISOR_COMMS", None) is not None:
        from airflow.sdk import Connection

        return Connection.get(conn_id)
    from airflow.models.connection import Connection as StoredConnection

    return StoredConnection.get_connection_from_secrets(conn_id)


def missing(reference: SecretReference) -> str:
    """Why a secret could not be read, in words that say how to give it."""
    if isinstance(reference, ConnectionSecret):
        return (
            f"the Airflow connection {reference.connection} is missing or has no {reference.field}"
            f" (airflow connections add {reference.connection} ..., or AIRFLOW_CONN_"
            f"{reference.connection.upper()})"
        )
    return f"{reference} is not set"


def resolve(
    reference: SecretReference, what: str, env: Mapping[str, str], connections: dict[str, Any] | None = None
) -> str:
    """The secret's value; a ConfigError naming where it was looked for and ``what`` it is."""
    value = lookup(reference, env, connections)
    if value is None:
        raise ConfigError(f"{missing(reference)}: {what}")
    return value


def resolve_all(
    references: Mapping[str, SecretReference], what: Callable[[str], str], env: Mapping[str, str]
) -> dict[str, str]:
    """Each path's secret value (``resolve``, ``what(path)`` in its error), in order; each
    Airflow connection fetched once, however many of its fields the paths read."""
    connections: dict[str, Any] = {}
    return {path: resolve(reference, what(path), env, connections) for path, reference in references.items()}
