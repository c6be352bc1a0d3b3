"""Where the warehouse is: Airflow's connection read by the warehouse hook, a URL read by libpq."""

from __future__ import annotations

import pytest

from liftoff.config import ConfigError
from liftoff.warehouse.location import Warehouse, airflow_warehouse


def test_the_tasks_warehouse_is_the_airflow_connection_through_the_hook(monkeypatch) -> None:
    from liftoff.hooks.warehouse import WarehouseHook

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://pipeline:p%40ss%2Fword@db.internal:6543/liftoff")
    monkeypatch.setenv("AIRFLOW_CONN_OTHER", "postgres://reader:x@replica:5432/liftoff")
    assert airflow_warehouse() == Warehouse("db.internal", 6543, "liftoff", "pipeline", "p@ss/word")
    assert airflow_warehouse("other").host == "replica"
    assert isinstance(WarehouseHook(), WarehouseHook) and WarehouseHook().get_conn_id() == "warehouse"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u%40x:p%2Fw@h:5433/db", Warehouse("h", 5433, "db", "u@x", "p/w")),
        ("postgres://pipeline:s3@db/liftoff", Warehouse("db", 5432, "liftoff", "pipeline", "s3")),
        ("postgresql+psycopg://a@h/d", Warehouse("h", 5432, "d", "a", "")),
        ("postgresql://u:p@[::1]:5/d", Warehouse("::1", 5, "d", "u", "p")),
    ],
)
def test_a_url_is_read_as_libpq_reads_it(url: str, expected: Warehouse) -> None:
    assert Warehouse.from_url(url) == expected
    assert Warehouse.from_url(expected.url) == expected, "and written back as one"


@pytest.mark.parametrize("url", ["mysql://u:s3cret@h/d", "postgresql://u:s3cret@h:notaport/d", "s3cret"])
def test_a_url_that_is_not_postgresqls_is_one_line_without_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Warehouse.from_url(url)
    message = str(refused.value)
    assert "s3cret" not in message
    assert (
        "must be postgresql://user:password@host:port/db" in message or "is not a PostgreSQL URL" in message
    )
