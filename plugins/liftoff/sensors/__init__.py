"""LiftOff's Airflow sensors (they wait, deferred to the triggerer), as a provider lays them out."""
