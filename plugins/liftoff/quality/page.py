"""LiftOff's pages inside Airflow's UI: an app the API server mounts at ``/liftoff``
(``LiftoffPlugin.fastapi_apps``), behind Airflow's login (any signed-in user: the token the
UI holds in its cookie, or a Bearer token), read only.

The data quality page reads ``audit`` through Airflow's ``warehouse`` connection (the
pipeline's login); the dbt docs are the page the ``dbt_docs`` DAG published in the archive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment

from liftoff.quality import DBT_DOCS_PATH, PATH
from liftoff.quality.report import TOP_ERRORS, WINDOW_DAYS, StreamQuality, stream_quality

# the page's template, beside this module (package data)
_PAGE = Environment(autoescape=True).from_string(Path(__file__).with_name("quality.html").read_text())


NO_DOCS_YET = (
    "<p>No dbt docs yet: the <code>dbt_docs</code> DAG makes them after gold's next refresh"
    " (a successful <code>sales_elt</code> run).</p>"
)


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

    @app.get(DBT_DOCS_PATH, response_class=HTMLResponse)
    def dbt_docs() -> Response:
        from liftoff.archive.location import airflow_archive_store
        from liftoff.transform.dbt_docs import published_docs

        page = published_docs(airflow_archive_store())
        if page is None:
            return HTMLResponse(NO_DOCS_YET, status_code=404)
        return HTMLResponse(page)

    return app
