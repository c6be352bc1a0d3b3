"""
### gold_export: a dated snapshot of the gold tables in the archive

Scheduled on the gold tables as Airflow assets (`sales_elt` updates them when a day's
layers are built and tested). For each day just refreshed, every gold table's rows of that
day go to the archive as `exports/<table>/dt=<day>/<table>.csv`, for analysts and tools
without database access. Rerunning it rewrites the same files. See `docs/archive.md`.
Owner: data platform.
"""

from __future__ import annotations

from airflow.sdk import DAG, get_current_context

from liftoff.config import disable_telemetry
from liftoff.dag_defaults import DEFAULT_ARGS, START_DATE
from liftoff.lineage import export_lineage, lineage_task
from liftoff.transform.gold_assets import gold_assets

disable_telemetry()

with DAG(
    dag_id="gold_export",
    description="Export each refreshed day of the gold tables to the archive (CSV).",
    schedule=gold_assets(),  # once every gold table has been updated
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["liftoff", "gold", "exports"],
    doc_md=__doc__,
) as dag:

    @lineage_task(
        doc_md="Write each refreshed day of every gold table to `exports/<table>/dt=<day>/`.",
        lineage=export_lineage,  # gold tables -> the day's CSV objects
    )
    def export_gold() -> list[dict]:
        from datetime import date

        from liftoff.archive.exports import export_table
        from liftoff.archive.location import airflow_archive_store
        from liftoff.transform.gold_assets import gold_tables
        from liftoff.warehouse.location import airflow_warehouse

        events = get_current_context()["triggering_asset_events"]
        days = sorted({e.extra["day"] for found in events.values() for e in found if e.extra.get("day")})
        store = airflow_archive_store()
        done = []
        with airflow_warehouse().connect() as conn:
            for day in days:
                for table in gold_tables():
                    export = export_table(conn, store, table, date.fromisoformat(day))
                    done.append({"table": export.table, "key": export.key, "rows": export.rows})
        return done

    export_gold()
