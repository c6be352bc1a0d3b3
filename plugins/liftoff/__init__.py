"""LiftOff Data: the platform package shared by the DAGs, the CLI and the tests."""
