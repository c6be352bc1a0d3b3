"""
### sales_elt: one run per day of sales data

For the run's data interval `[data_interval_start, data_interval_end)` (one UTC day):

1. **per source** (from `include/sources.yaml`): `ingest` lands the interval's rows in
   `raw_<source>`, in Airbyte's table layout (for a stream source, what its Kafka topic
   received in the interval); `validate` checks each batch against its contract (rejected
   rows go to `audit.quarantine`, counts to `audit.batches`); `archive` writes the batch to
   the raw archive; `freshness` and, on a day far quieter than usual, `approve_low_volume`
   check the gated batches;
2. **bronze → silver → gold**: the dbt models through Cosmos, tests after each model.
   Bronze starts once every source's batches are gated (it replaces only the day's slice,
   and a reference stream's snapshot in place), beside the archives and checks. Silver
   waits for those (nothing of the day reaches silver or gold before its batches are
   archived and checked) and for the previous day's run to finish its layers
   (`previous_day_transformed`, waiting beside the syncs and bronze), so a backfill syncs
   days side by side, builds a day's bronze beside earlier days' silver and gold, and
   builds silver and gold in date order.

Every run owns exactly its interval: rerunning a day replaces that day everywhere.
Runbook: `docs/runbook.md`. Owner: data platform.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG

from liftoff.config import LAYERS, active_sources, disable_telemetry
from liftoff.dag_defaults import DAG_ID, DEFAULT_ARGS, START_DATE
from liftoff.notifiers.alerts import run_deadline
from liftoff.sensors.previous_day import PreviousDayTransformedSensor
from liftoff.source_group import gates, leaves, source_task_group
from liftoff.timetable import DailyTimetable
from liftoff.transform.ordering import transform_done
from liftoff.transform.task_groups import dbt_layer

disable_telemetry()

with DAG(
    dag_id=DAG_ID,
    description="Daily sales ELT: Airbyte sync, contract gate, raw archive, dbt bronze/silver/gold.",
    # A timetable with data intervals (in Airflow 3 a cron string alone gives start == end).
    # The run of day D has logical date D.
    schedule=DailyTimetable(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=3,  # days sync side by side; silver and gold go in date order (the sensor)
    deadline=run_deadline(),  # a run still unfinished long after it was queued alerts on-call
    default_args={**DEFAULT_ARGS, "execution_timeout": timedelta(hours=1)},
    tags=["liftoff", "sales", "elt"],
    doc_md=__doc__,
) as dag:
    configured = active_sources()  # the sources in sources.yaml, minus those in LIFTOFF_SKIP_SOURCES
    sources = [source_task_group(name, source) for name, source in configured.items()]
    bronze, silver, gold = (dbt_layer(layer, configured) for layer in LAYERS)
    gates(sources) >> bronze  # the day's gated slice (a snapshot in place): no wait for the eve
    [bronze, *leaves(sources), PreviousDayTransformedSensor()] >> silver >> gold >> transform_done()
