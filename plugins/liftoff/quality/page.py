"""The LiftOff data quality page inside Airflow's UI: an app the API server mounts at
``/liftoff`` (``LiftoffPlugin.fastapi_apps``), behind Airflow's login (any signed-in user:
the token the UI holds in its cookie, or a Bearer token), read only.

It reads ``audit`` through Airflow's ``warehouse`` connection (the pipeline's login).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from liftoff.quality import PATH
from liftoff.quality.report import TOP_ERRORS, WINDOW_DAYS, StreamQuality, stream_quality

# the page's template, beside this module (package data)
_PAGE = Environment(autoescape=True).from_string(Path(__file__).with_name("quality.html").read_text())


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def render(streams: list[StreamQuality], now: datetime) -> str:
    return _PAGE.render(streams=streams, window=WINDOW_DAYS, top=TOP_ERRORS, when=_when, now=now)


def _read() -> list[StreamQuality]:
    from liftoff.ingest.secrets import airflow_connection
    from liftoff.warehouse.location import Warehouse

    with Warehouse.from_airflow(airflow_connection("warehouse")).connect() as session:
        return stream_quality(session)


async def signed_in(request: Request) -> None:
    """Airflow's own login check (``get_user``: a Bearer token, else the UI's cookie), imported
    at the first request: the other components load plugins too and never serve this."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user

    await get_user(request, None, await bearer_scheme(request))


def create_app() -> FastAPI:
    """The app, every route behind Airflow's login."""
    app = FastAPI(
        title="LiftOff", dependencies=[Depends(signed_in)], docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get(PATH, response_class=HTMLResponse)
    def quality() -> str:
        return render(_read(), datetime.now(UTC))

    return app
