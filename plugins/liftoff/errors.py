"""The two kinds of error a task meets, and what Airflow does with each. Only this module decides that.

- ``Permanent``: a retry cannot fix it (wrong configuration, bad input, a batch over its
  reject threshold, a stale source, a failed previous day). The task fails at once, with a
  one-line message. A request that cannot be done as asked raises ``Refused`` (its message
  says what to do instead); wrong configuration raises ``liftoff.config.ConfigError``.
- ``Transient``: an outage (the warehouse, an API or the object store did not answer).
  Airflow retries the task with exponential backoff (``liftoff.dag_defaults``).

Every error class of the platform derives from one of them. Anything else a task raises
(a driver's own error, a bug) gets Airflow's default: it is retried.
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
    """Wrap a task's work. A permanent error, or bad input (a ``ValueError``, e.g. from a
    contract's validation or a date), fails the task without retries; a transient one is
    retried. Both keep only their message: on-call reads the task's log, not our class names."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except (Permanent, ValueError) as exc:
        raise AirflowFailException(str(exc)) from exc
    except Transient as exc:
        raise RuntimeError(str(exc)) from exc
