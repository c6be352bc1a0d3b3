"""LiftOff's Airflow operators (one step each), as a provider lays them out."""
