"""Data quality where data engineers look: the gate's and the syncs' records, read for a page
in Airflow's UI (``liftoff.quality.page``, mounted by ``liftoff.airflow_plugin``), beside the
dbt docs the pipeline publishes (``liftoff.transform.dbt_docs``)."""

URL_PREFIX = "/liftoff"  # where the API server mounts the app
PATH = "/quality"  # the page, in the app
DBT_DOCS_PATH = "/dbt-docs"  # the dbt docs, in the app
