"""Two error bases decide retries, in one place (``liftoff.errors.task_errors``)."""

from __future__ import annotations

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from liftoff.archive.archiver import ArchiveError
from liftoff.archive.store import StoreError
from liftoff.config import ConfigError, Unavailable
from liftoff.errors import Permanent, Refused, Transient, task_errors
from liftoff.ingest.local import PaginationLoop
from liftoff.ingest.protocol import ConnectorConfigError, ConnectorFailed
from liftoff.transform.ordering import PreviousDayFailed
from liftoff.validate.freshness import StaleSource
from liftoff.validate.gate import BatchRejected

FAIL_NOW = [
    ConfigError,
    Refused,
    BatchRejected,
    StaleSource,
    PreviousDayFailed,
    ConnectorConfigError,
    PaginationLoop,
]
RETRIED = [Unavailable, ConnectorFailed, StoreError, ArchiveError]


def raised_in_a_task(error: BaseException) -> BaseException:
    with pytest.raises(BaseException) as caught, task_errors():
        raise error
    return caught.value


@pytest.mark.parametrize("kind", FAIL_NOW, ids=lambda kind: kind.__name__)
def test_what_a_retry_cannot_fix_fails_the_task_at_once_in_its_own_words(kind: type) -> None:
    assert issubclass(kind, Permanent)
    failed = raised_in_a_task(kind("the line on-call reads"))
    assert type(failed) is AirflowFailException and str(failed) == "the line on-call reads"


@pytest.mark.parametrize("kind", RETRIED, ids=lambda kind: kind.__name__)
def test_an_outage_is_retried(kind: type) -> None:
    assert issubclass(kind, Transient) and not issubclass(kind, Permanent)
    retried = raised_in_a_task(kind("the API did not answer"))
    assert type(retried) is RuntimeError and str(retried) == "the API did not answer"


def test_bad_input_fails_at_once_and_a_drivers_own_error_keeps_airflows_default() -> None:
    assert type(raised_in_a_task(ValueError("2026-13-01 is not a day"))) is AirflowFailException
    dropped = psycopg.OperationalError("server closed the connection unexpectedly")
    assert raised_in_a_task(dropped) is dropped, "retried by Airflow, as it is"


def test_every_step_task_decides_through_task_errors() -> None:
    """The operator of every LiftOff step task (``lineage_task``) runs its callable inside
    ``task_errors``: a configuration error in the callable fails the task without retries."""
    from liftoff.lineage import TaskLineage, lineage_operator_class

    def misconfigured() -> None:
        raise ConfigError("LIFTOFF_ARCHIVE_URL is not set")

    operator = lineage_operator_class()(
        task_id="archive",
        python_callable=misconfigured,
        op_args=[],
        op_kwargs={},
        lineage=lambda _: TaskLineage(),
    )
    with pytest.raises(AirflowFailException, match="LIFTOFF_ARCHIVE_URL is not set"):
        operator.execute({"params": {}})
