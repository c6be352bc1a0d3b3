"""What LiftOff registers with Airflow (entry point ``airflow.plugins``): the daily timetable, and
the data quality page and the dbt docs (an app the API server mounts, entries in the UI's Browse
menu).

Every Airflow component loads plugins: the page's app (FastAPI, Jinja, psycopg) is built at
its first request only, so the others never import it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow.plugins_manager import AirflowPlugin

from liftoff.quality import DBT_DOCS_PATH, PATH, URL_PREFIX
from liftoff.timetable import DailyTimetable


class LazyApp:
    """An ASGI app that builds ``liftoff.quality.page.create_app()`` on its first call."""

    def __init__(self) -> None:
        self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            from liftoff.quality.page import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


def _base_path() -> str:
    """The path the API server is served under (``[api] base_url``), as the UI's links need it."""
    from airflow.configuration import conf

    return urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


class LiftoffPlugin(AirflowPlugin):
    name = "liftoff"
    timetables = [DailyTimetable]
    fastapi_apps = [{"name": "liftoff", "app": LazyApp(), "url_prefix": URL_PREFIX}]

    @classmethod
    def on_load(cls, *args, **kwargs) -> None:
        # the menu entry's href with the deployment's base path (read when Airflow loads it)
        cls.external_views = [
            {
                "name": "Data quality",
                "href": f"{_base_path()}{URL_PREFIX}{PATH}",
                "url_route": "data-quality",  # inside the UI, at /plugin/data-quality
                "category": "Browse",
            },
            {
                "name": "dbt docs",
                "href": f"{_base_path()}{URL_PREFIX}{DBT_DOCS_PATH}",
                "url_route": "dbt-docs",  # at /plugin/dbt-docs
                "category": "Browse",
            },
        ]
