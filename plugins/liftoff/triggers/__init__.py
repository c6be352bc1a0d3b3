"""LiftOff's Airflow triggers (async waits the triggerer runs), as a provider lays them out."""
