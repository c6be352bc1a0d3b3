"""Starting the Streamlit app: the roles' passwords and connections, and the command line."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from pydantic import SecretStr

from liftoff.config import PROJECT_ROOT, TELEMETRY_OFF, Settings, load_sources
from liftoff.entry.bulk import MAX_UPLOAD_MB
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse

APP_SCRIPT = PROJECT_ROOT / "apps" / "entry" / "app.py"


def app_env(settings: Settings, warehouse: Warehouse) -> dict[str, str]:
    """Bootstrap the warehouse (roles included) and return the app's environment.

    The roles get the passwords configured (``LIFTOFF_ANALYST_PASSWORD``,
    ``LIFTOFF_ENTRY_WRITER_PASSWORD``), else fresh random ones for this launch. The app gets
    the two role connections only, never the warehouse owner's.
    """
    settings = settings.model_copy(
        update={
            "analyst_password": settings.analyst_password or SecretStr(secrets.token_urlsafe(18)),
            "entry_writer_password": settings.entry_writer_password or SecretStr(secrets.token_urlsafe(18)),
        }
    )
    with warehouse.connect() as conn:
        bootstrap(conn, list(load_sources(settings.sources_file)), settings)
        conn.commit()
    analyst = warehouse.as_role(settings.analyst_role, settings.analyst_password)
    writer = warehouse.as_role(settings.entry_writer_role, settings.entry_writer_password)
    env = {key: value for key, value in os.environ.items() if key != "LIFTOFF_WAREHOUSE_URL"}
    return {**env, **TELEMETRY_OFF, "LIFTOFF_ANALYST_URL": analyst.url, "LIFTOFF_ENTRY_URL": writer.url}


def streamlit_command(port: int, host: str = "127.0.0.1", script: Path = APP_SCRIPT) -> list[str]:
    """``streamlit run`` of the app, headless, telemetry off."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",  # no "Deploy" button for sales staff
        "--server.maxUploadSize",
        str(MAX_UPLOAD_MB),  # a larger file is refused before it is read
    ]
