"""
### files_catalog: catalog the unstructured files dropped in the archive's inbox

Every hour, each object under `inbox/<kind>/<entity id>/<file name>` (product images,
seller and supplier documents) is sniffed from its bytes, hashed and recorded in
`catalog.objects`; accepted files move to `files/<kind>/<entity id>/`. Empty files, files
whose bytes do not match their extension and keys with path tricks are refused with a
reason in the catalog and stay in the inbox. See `docs/archive.md`. Owner: data platform.
"""

from __future__ import annotations

from airflow.sdk import DAG, CronTriggerTimetable, task

from liftoff.config import disable_telemetry
from liftoff.dag_defaults import DEFAULT_ARGS, START_DATE

disable_telemetry()

with DAG(
    dag_id="files_catalog",
    description="Catalog the files dropped under inbox/ in the archive.",
    schedule=CronTriggerTimetable("@hourly", timezone="UTC"),  # a sweep, not a data interval
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["liftoff", "archive", "files"],
    doc_md=__doc__,
) as dag:

    @task(doc_md="Sniff, hash and catalog each inbox file; move the accepted ones to files/.")
    def catalog_inbox() -> dict:
        from liftoff.archive.catalog import catalog_inbox as run_catalog
        from liftoff.archive.location import airflow_archive_store
        from liftoff.errors import task_errors
        from liftoff.warehouse.location import airflow_warehouse

        with task_errors(), airflow_warehouse().connect() as conn:
            entries = run_catalog(conn, airflow_archive_store())
        return {
            "accepted": sum(e.status == "accepted" for e in entries),
            "refused": sum(e.status == "refused" for e in entries),
        }

    catalog_inbox()
