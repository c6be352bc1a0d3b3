"""LiftOff's Airflow hooks (how a task talks to a system, from an Airflow connection), as a
provider lays them out."""
