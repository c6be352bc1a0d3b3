"""The app's two connections: the dashboards as the analyst role, the form as the entry writer."""

from __future__ import annotations

from pydantic import SecretStr

from liftoff.config import ConfigError, Settings
from liftoff.warehouse.location import Warehouse


def _target(url: SecretStr | None, variable: str) -> Warehouse:
    if url is None:
        raise ConfigError(f"{variable} is not set: start the app with `make app` (or `liftoff app`)")
    return Warehouse.from_url(url.get_secret_value())


def analyst(settings: Settings) -> Warehouse:
    return _target(settings.analyst_url, "LIFTOFF_ANALYST_URL")


def entry_writer(settings: Settings) -> Warehouse:
    return _target(settings.entry_url, "LIFTOFF_ENTRY_URL")
