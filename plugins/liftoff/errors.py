"""The two kinds of error a task meets, and what Airflow does with each: decided here only.

- ``Permanent``: what a retry cannot fix (wrong configuration, bad input, a batch over its
  reject threshold, a stale source, a failed eve): the task fails at once, in one line.
  A request refused as asked is a ``Refused`` (its one line says what to do instead);
  wrong configuration a ``liftoff.config.ConfigError``.
- ``Transient``: an outage (the warehouse, an API, the object store did not answer): Airflow
  retries the task with its exponential backoff (``liftoff.dag_defaults``).

Every error class of the platform derives from one of them. Anything else a task raises
(a driver's own error, a bug) keeps Airflow's default: it is retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Permanent(RuntimeError):
    """What a retry cannot fix: the task fails at once, and people read this one line."""


class Refused(Permanent):
    """What was asked cannot be done as asked (a run of a day not ended, a query that failed,
    a name that is taken): not configuration, and a retry would be refused the same way."""


class Transient(RuntimeError):
    """A service did not answer: the task is retried with Airflow's backoff."""


@contextmanager
def task_errors() -> Iterator[None]:
    """Around a task's work: a permanent error (or bad input, a ``ValueError``: a contract's
    validation, a date) fails the task without retries; a transient one is retried. Both
    keep only their message: on-call reads the task's log, not our class names."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except (Permanent, ValueError) as exc:
        raise AirflowFailException(str(exc)) from exc
    except Transient as exc:
        raise RuntimeError(str(exc)) from exc
