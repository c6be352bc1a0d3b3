"""The warehouse hook: Airflow's ``PostgresHook`` on the ``warehouse`` connection (the
pipeline's login), whose sessions are liftoff's own (``Warehouse.connect``: the fixed
``search_path``, a refused login told from an outage)."""

from __future__ import annotations

import psycopg
from airflow.providers.postgres.hooks.postgres import PostgresHook

from liftoff.warehouse.location import Warehouse


class WarehouseHook(PostgresHook):
    """``PostgresHook`` whose connections open as ``Warehouse.connect`` does."""

    default_conn_name = "warehouse"
    hook_name = "LiftOff warehouse"

    def warehouse(self) -> Warehouse:
        """The server, database and login the connection describes."""
        return Warehouse.from_airflow(self.connection)

    def get_conn(self) -> psycopg.Connection:
        return self.warehouse().connect()
