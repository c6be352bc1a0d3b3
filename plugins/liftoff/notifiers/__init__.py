"""LiftOff's Airflow notifiers (a message to people, for a task or a run), as a provider lays them out."""
