"""
### dbt_docs: the dbt docs, made after gold, read in Airflow's UI

Scheduled on the gold tables as Airflow assets (`sales_elt` updates them when a day's layers
are built and tested). Each run, `dbt docs generate` (Cosmos' docs operator) writes the
project's docs as one page, with the warehouse's catalog, to the archive
(`docs/dbt/index.html`). Read them in *Browse → dbt docs*. Owner: data platform.
"""

from __future__ import annotations

from airflow.sdk import DAG
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtDocsLocalOperator

from liftoff.config import DBT_PROJECT_DIR, disable_telemetry
from liftoff.dag_defaults import DEFAULT_ARGS, START_DATE
from liftoff.transform.gold_assets import gold_assets
from liftoff.transform.task_groups import PIPELINE_DBT_ENV, profile_config

disable_telemetry()

_DAY = "dag_run.run_after.replace(hour=0, minute=0, second=0, microsecond=0)"
DOCS_INTERVAL_ENV = {
    "LIFTOFF_INTERVAL_START": f"{{{{ {_DAY}.isoformat() }}}}",
    "LIFTOFF_INTERVAL_END": f"{{{{ ({_DAY} + macros.timedelta(days=1)).isoformat() }}}}",
}

with DAG(
    dag_id="dbt_docs",
    description="The dbt docs, generated after each gold refresh, for Browse → dbt docs.",
    schedule=gold_assets(),  # once every gold table has been updated
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,  # a backfill refreshes gold many times: one run at a time, the latest page last
    default_args=DEFAULT_ARGS,
    tags=["liftoff", "dbt", "docs"],
    doc_md=__doc__,
) as dag:
    DbtDocsLocalOperator(
        task_id="generate",
        doc_md="`dbt docs generate --static`; the page goes to the archive.",
        project_dir=str(DBT_PROJECT_DIR),
        profile_config=profile_config(),
        install_deps=False,
        invocation_mode=InvocationMode.DBT_RUNNER,  # in-process, as the layers run
        # the models' SQL compiled for the day the run was made on (the models read the day)
        env={**PIPELINE_DBT_ENV, **DOCS_INTERVAL_ENV},
        dbt_cmd_flags=["--static"],  # one self-contained page
        callback="liftoff.transform.dbt_docs.publish_docs",  # imported when it runs
    )
