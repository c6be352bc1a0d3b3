"""The warehouse hook: Airflow's ``PostgresHook`` on the ``warehouse`` connection (the
pipeline's login). Its sessions open as liftoff's own do (``Warehouse.connect``): with a
fixed ``search_path``, and with a refused login reported apart from an outage."""

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
