"""A refused login is configuration (fails at once); a server that does not answer is an
outage (retried). Both are one line, without the password."""

from __future__ import annotations

import pytest

from liftoff.config import ConfigError, Unavailable
from liftoff.warehouse.location import Warehouse
from sales_api.server import free_port


@pytest.mark.parametrize("wrong", ["password", "user", "database"])
def test_a_refused_login_is_configuration(pg_server: Warehouse, wrong: str) -> None:
    target = Warehouse(
        pg_server.host,
        pg_server.port,
        "no_such_database" if wrong == "database" else "postgres",
        "no_such_role" if wrong == "user" else pg_server.user,
        "wrong-pass-4d2c9e" if wrong != "database" else pg_server.password,
    )
    with pytest.raises(ConfigError, match="refused the login") as info:
        target.connect()
    assert "\n" not in str(info.value) and "wrong-pass-4d2c9e" not in str(info.value)


def test_a_server_that_does_not_answer_is_an_outage() -> None:
    target = Warehouse("127.0.0.1", free_port(), "postgres", "postgres", "secret-pass-8e1f")
    with pytest.raises(Unavailable, match="is not reachable") as info:
        target.connect()
    assert "\n" not in str(info.value) and "secret-pass-8e1f" not in str(info.value)
