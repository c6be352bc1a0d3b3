"""
### pos_today: today's point-of-sale sales, visible within a minute (a preview)

Scheduled on each stream source's Kafka topic as an Airflow asset, watched by the Kafka
provider's message-queue trigger (event-driven scheduling): a message on the topic starts
a run (events that arrive during a run start the next one); or every minute
(`LIFTOFF_PREVIEW_SCHEDULE=minute`). The run lands what the topic
received since today's midnight (UTC) into `raw_<source>`, replacing that slice, and
`gold.gold_sales_today` shows it: sales, units and revenue so far today per product and
seller. It is only a preview: once the day is over, `sales_elt`'s run of the day is the
truth (it validates, archives and replaces the same slice). Runbook: `docs/runbook.md`. Owner: data platform.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, task

from liftoff.config import disable_telemetry, get_settings, streamed_sources
from liftoff.dag_defaults import DEFAULT_ARGS, START_DATE
from liftoff.stream.today import topic_asset

disable_telemetry()

streamed = streamed_sources()

if streamed:  # no preview DAG when the deployment has no stream source (e.g. LIFTOFF_SKIP_SOURCES)
    with DAG(
        dag_id="pos_today",
        description="Land today's stream so far, on each new message: gold_sales_today (a preview).",
        schedule=(
            [topic_asset(name, source) for name, source in streamed.items()]
            if get_settings().preview_schedule == "watcher"
            else timedelta(minutes=1)
        ),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # messages during a run queue one more run, never a pile of them
        default_args={**DEFAULT_ARGS, "retries": 1, "execution_timeout": timedelta(minutes=10)},
        tags=["liftoff", "sales", "stream", "preview"],
        doc_md=__doc__,
    ) as dag:
        for name in streamed:

            @task(task_id=f"land_{name}_today", doc_md=f"Land what `{name}`'s topic received today so far.")
            def land_today(name: str = name) -> dict:
                from liftoff.config import active_sources
                from liftoff.errors import task_errors
                from liftoff.ingest.stream import land_stream
                from liftoff.stream.today import today_so_far
                from liftoff.warehouse.location import airflow_warehouse

                with task_errors():
                    return land_stream(name, active_sources()[name], today_so_far(), airflow_warehouse())

            land_today()
