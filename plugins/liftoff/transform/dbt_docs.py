"""The dbt docs of the project, made by the pipeline after gold and read in Airflow's UI.

The ``dbt_docs`` DAG (scheduled on the gold assets) runs Cosmos' ``DbtDocsLocalOperator``:
``dbt docs generate --static`` writes one self-contained page (the manifest and the
warehouse's catalog inside; the models' SQL compiled for the day the run was made on), which
``publish_docs`` puts in the archive at ``DOCS_KEY``. The LiftOff app serves it behind
Airflow's login (*Browse → dbt docs*): every component that can read the archive sees the
same page, on the embedded default and in a team deployment alike.
"""

from __future__ import annotations

from pathlib import Path

from liftoff.archive.store import ObjectStore

DOCS_KEY = "docs/dbt/index.html"
STATIC_INDEX = "static_index.html"


def publish_docs(project_dir: str, store: ObjectStore | None = None, **_: object) -> str:
    """Cosmos' callback: the generated page, from ``<project_dir>/target``, to the archive."""
    if store is None:
        from liftoff.archive.location import airflow_archive_store

        store = airflow_archive_store()
    page = Path(project_dir) / "target" / STATIC_INDEX
    store.put_file(DOCS_KEY, page)
    return DOCS_KEY


def published_docs(store: ObjectStore) -> bytes | None:
    """The page the last ``dbt_docs`` run published; None before the first one."""
    return store.get_bytes(DOCS_KEY) if store.exists(DOCS_KEY) else None
