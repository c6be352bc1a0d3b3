"""Fixtures of the entry app's tests: a bootstrapped warehouse and its two role connections."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from liftoff.config import get_settings, load_sources
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse


@dataclass(frozen=True)
class AppWarehouse:
    owner: Warehouse  # what the bootstrap connects as
    pipeline: Warehouse  # what the pipeline's tasks and dbt connect as
    analyst: Warehouse
    entry_writer: Warehouse


@pytest.fixture
def app_warehouse(warehouse: Warehouse) -> AppWarehouse:
    """A fresh warehouse, bootstrapped with the apps' roles (fresh passwords)."""
    settings = get_settings().model_copy(
        update={
            "pipeline_password": SecretStr(secrets.token_urlsafe(12)),
            "analyst_password": SecretStr(secrets.token_urlsafe(12)),
            "entry_writer_password": SecretStr(secrets.token_urlsafe(12)),
        }
    )
    with warehouse.connect() as conn:
        bootstrap(conn, list(load_sources()), settings)
        conn.commit()
    return AppWarehouse(
        owner=warehouse,
        pipeline=warehouse.as_role(settings.pipeline_role, settings.pipeline_password),
        analyst=warehouse.as_role(settings.analyst_role, settings.analyst_password),
        entry_writer=warehouse.as_role(settings.entry_writer_role, settings.entry_writer_password),
    )


def add_products(pipeline: Warehouse, *names: str) -> None:
    """A gold product catalogue as the pipeline's first run leaves it (the form's list)."""
    with pipeline.connect() as conn:
        conn.execute(
            "create table if not exists gold.gold_products"
            " (product_id text primary key, name text not null, category text, unit_price numeric(12, 2))"
        )
        for number, name in enumerate(names, start=1):
            conn.execute(
                "insert into gold.gold_products values (%s, %s, 'subscription', 10) on conflict do nothing",
                (f"P{number:03d}", name),
            )
        conn.commit()
