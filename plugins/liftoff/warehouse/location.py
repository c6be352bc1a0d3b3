"""Where the warehouse is: one URL, resolved the same way by the CLI, the DAG and the tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import SecretStr

from liftoff.config import ConfigError, Unavailable, get_settings, redacted_url

# The database of the embedded default's PostgreSQL (liftoff.local.postgres makes it
# on the configured port).
EMBEDDED_DATABASE = "liftoff"
# What the server answers to a wrong password, role or database: configuration, not an
# outage. libpq reports a refused connection without its SQLSTATE, so its words are read too.
REFUSED_LOGIN = {"28P01", "28000", "3D000"}
# Every session liftoff opens resolves names in the system catalog only: an object another
# role created (a schema named after the login, a function shadowing a built-in) is never
# picked by an unqualified name. Our SQL names its schemas (audit.batches, raw_crm.sales).
SESSION_OPTIONS = "-c search_path=pg_catalog,pg_temp"
REFUSED_LOGIN_WORDS = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # the role or the database
    "no password supplied",
)


@dataclass(frozen=True)
class Warehouse:
    """A PostgreSQL server and database, as its parts."""

    host: str
    port: int
    database: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Warehouse:
        """The parts of a PostgreSQL URL, as libpq reads it (``postgres://`` as Airflow writes
        it; ``postgresql+psycopg://`` as SQLAlchemy does)."""
        scheme, sep, rest = url.partition("://")
        if not sep or scheme.split("+")[0] not in {"postgres", "postgresql"}:
            shown = repr(redacted_url(url)) if sep else "a value without a scheme"  # a stray password?
            raise ConfigError(f"warehouse URL must be postgresql://user:password@host:port/db, got {shown}")
        try:
            parts = conninfo_to_dict(f"postgresql://{rest}")
            port = int(parts.get("port") or 5432)
        except (psycopg.ProgrammingError, ValueError) as exc:  # its text may repeat the password
            raise ConfigError(f"warehouse URL {redacted_url(url)!r} is not a PostgreSQL URL") from exc
        return cls(
            host=parts.get("host") or "127.0.0.1",
            port=port,
            database=parts.get("dbname") or "postgres",
            user=parts.get("user") or "postgres",
            password=parts.get("password") or "",
        )

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"postgresql://{auth}@{host}:{self.port}/{self.database}"

    @classmethod
    def from_airflow(cls, conn) -> Warehouse:
        """The server an Airflow connection (any of its ``Connection`` classes) describes."""
        return cls(
            host=conn.host or "127.0.0.1",
            port=int(conn.port or 5432),
            database=conn.schema or "postgres",
            user=conn.login or "postgres",
            password=conn.password or "",
        )

    @property
    def airflow_conn_uri(self) -> str:
        """The same server as an Airflow connection URI (``AIRFLOW_CONN_WAREHOUSE``)."""
        return self.url.replace("postgresql://", "postgres://", 1)

    @property
    def dbt_env(self) -> dict[str, str]:
        """The same server for plain dbt (``include/dbt/profiles.yml`` reads these)."""
        return {
            "LIFTOFF_PG_HOST": self.host,
            "LIFTOFF_PG_PORT": str(self.port),
            "LIFTOFF_PG_USER": self.user,
            "LIFTOFF_PG_PASSWORD": self.password,
            "LIFTOFF_PG_DATABASE": self.database,
        }

    def as_role(self, role: str, password: SecretStr) -> Warehouse:
        """The same server and database, logged in as ``role``."""
        return Warehouse(self.host, self.port, self.database, role, password.get_secret_value())

    def safe_str(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def connect(self, **kwargs) -> psycopg.Connection:
        """Open a psycopg connection, as ``application_name`` liftoff (or ``PGAPPNAME``: the
        embedded Airflow's tasks are ``liftoff-pipeline``), so that on-call sees who is who.

        The session's ``search_path`` is fixed (``pg_catalog, pg_temp``): whatever another
        role creates is never run by an unqualified name (an owner's session above all).

        A server that refuses or does not answer is :class:`Unavailable` (retried); a wrong
        login or database is a :class:`ConfigError` (not retried). Both are one line.
        """
        kwargs.setdefault("application_name", os.environ.get("PGAPPNAME") or "liftoff")
        kwargs["options"] = " ".join(filter(None, (kwargs.get("options"), SESSION_OPTIONS)))
        try:
            return psycopg.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=self.password,
                connect_timeout=5,
                **kwargs,
            )
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            if exc.sqlstate in REFUSED_LOGIN or any(words in str(exc) for words in REFUSED_LOGIN_WORDS):
                raise ConfigError(f"warehouse {self.safe_str()} refused the login: {reason}") from exc
            raise Unavailable(f"warehouse {self.safe_str()} is not reachable: {reason}") from exc


def configured_warehouse_url() -> str | None:
    """``LIFTOFF_WAREHOUSE_URL``, else the ``warehouse`` Airflow connection from the environment."""
    url = get_settings().warehouse_url
    return url.get_secret_value() if url else os.environ.get("AIRFLOW_CONN_WAREHOUSE")


def airflow_warehouse(conn_id: str = "warehouse") -> Warehouse:
    """The warehouse as Airflow's ``warehouse`` connection describes it (inside tasks)."""
    from liftoff.hooks.warehouse import WarehouseHook

    return WarehouseHook(postgres_conn_id=conn_id).warehouse()
