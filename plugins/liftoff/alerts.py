"""The deadline callback's path before ``liftoff.notifiers``: runs queued under the previous
release stored ``liftoff.alerts.on_run_late`` as their deadline's callback, and a late one
must still alert after an upgrade. Remove it one release later."""

from liftoff.notifiers.alerts import on_run_late

__all__ = ["on_run_late"]
