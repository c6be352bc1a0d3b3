"""Data quality where data engineers look: the gate's and the syncs' records, read for a page
in Airflow's UI (``liftoff.quality.page``, mounted by ``liftoff.airflow_plugin``)."""

URL_PREFIX = "/liftoff"  # where the API server mounts the app
PATH = "/quality"  # the page, in the app
