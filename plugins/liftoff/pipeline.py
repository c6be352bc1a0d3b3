"""The steps of one daily run for one source: ingest, validate, archive.

Each step is a plain function of the run's data interval (testable without Airflow) and a
task factory that wires it into a DAG. Failures a retry cannot fix (bad configuration,
a batch over its reject threshold) fail the task at once with a one-line reason.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from liftoff.archive.archiver import archive_batch
from liftoff.archive.store import ObjectStore
from liftoff.archive.target import store_from_settings
from liftoff.batch import Batch, Interval
from liftoff.config import ConfigError, Settings, SourceConfig, get_settings
from liftoff.ingest.local import sync_interval
from liftoff.validate.gate import BatchRejected, validate_batch
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.target import WarehouseTarget
from liftoff_contracts import get_contract

log = logging.getLogger(__name__)


def ingest(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: WarehouseTarget,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Local mode (PyAirbyte): land the run's batch of every stream of ``source`` in ``raw_<name>``.

    Server mode has no such function: the task is an ``AirbyteSyncOperator`` (source_task_group).
    """
    settings = settings or get_settings()
    landed = sync_interval(name, source, interval, target, settings)
    log.info("landed %s for %s: %s", name, interval.day, landed)
    return landed


def validate(
    name: str, source: SourceConfig, interval: Interval, target: WarehouseTarget, run_id: str | None = None
) -> dict[str, dict]:
    """Gate every batch of ``source``; raises BatchRejected if one is over its threshold."""
    results = {}
    with target.connect() as conn:
        bootstrap(conn, [name])
        for batch in Batch.all_of(name, source, interval):
            stream = source.streams[batch.stream]
            result = validate_batch(
                conn,
                batch,
                get_contract(stream.contract),
                max_reject_ratio=stream.max_reject_ratio,
                run_id=run_id,
            )
            log.info(result.summary())
            results[batch.stream] = {
                "landed": result.landed,
                "accepted": result.accepted,
                "rejected": result.rejected,
                "checksum": result.checksum,
            }
    return results


def archive(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: WarehouseTarget,
    store: ObjectStore | None = None,
    run_id: str | None = None,
) -> dict[str, str]:
    """Archive every batch of ``source``; returns the object key per stream."""
    store = store or store_from_settings()
    keys = {}
    with target.connect() as conn:
        for batch in Batch.all_of(name, source, interval):
            archived = archive_batch(conn, batch, store, run_id=run_id)
            log.info("archived %s rows of %s to %s in %s", archived.rows, batch.batch_id, archived.key, store)
            keys[batch.stream] = archived.key
    return keys


def _run_interval(context) -> Interval:
    start: datetime = context["data_interval_start"]
    end: datetime = context["data_interval_end"]
    return Interval(start, end)


def source_task_group(name: str, source: SourceConfig, conn_id: str = "warehouse"):
    """The task group of one source: ingest >> validate >> archive (a pushed source: no ingest)."""
    from airflow.sdk import TaskGroup, get_current_context, task
    from airflow.sdk.exceptions import AirflowFailException

    from liftoff.archive.archiver import ArchiveError
    from liftoff.archive.store import StoreError
    from liftoff.archive.target import airflow_archive_store
    from liftoff.ingest.local import IngestError
    from liftoff.ingest.server import AirbyteSyncOperator
    from liftoff.warehouse.target import airflow_warehouse_target

    def run_step(step, *, with_run_id: bool = False, **kwargs):
        context = get_current_context()
        if with_run_id:
            kwargs["run_id"] = context["run_id"]
        try:
            return step(name, source, _run_interval(context), airflow_warehouse_target(conn_id), **kwargs)
        except (ConfigError, BatchRejected, ValueError) as exc:
            raise AirflowFailException(str(exc)) from exc
        except (IngestError, StoreError, ArchiveError) as exc:  # transient: API or store down; retried
            raise RuntimeError(str(exc)) from exc

    with TaskGroup(group_id=name, tooltip=source.description) as group:
        mode = source.ingest_mode(name)
        if mode == "push":
            ingest_task = None  # the app has landed the rows already
        elif mode == "airbyte":
            server = source.airbyte
            ingest_task = AirbyteSyncOperator(
                task_id="ingest",
                doc_md=f"Trigger the Airbyte server's sync of `{name}` into `raw_{name}`; wait deferred.",
                source=name,
                airbyte_conn_id=server.conn_id,
                connection_id=server.resolve_connection_id(),
                timeout=server.timeout_seconds,
                execution_timeout=timedelta(seconds=server.timeout_seconds + 300),
            )
        else:

            @task(
                task_id="ingest", doc_md=f"Sync the run's interval of `{name}` into `raw_{name}` (PyAirbyte)."
            )
            def local_ingest() -> dict:
                return run_step(ingest)

            ingest_task = local_ingest()

        @task(task_id="validate", doc_md="Gate each landed batch with its contract; quarantine rejects.")
        def validate_task() -> dict:
            return run_step(validate, with_run_id=True)

        @task(task_id="archive", doc_md="Write each batch to the raw archive and check it back.")
        def archive_task() -> dict:
            return run_step(archive, with_run_id=True, store=airflow_archive_store())

        validated = validate_task()
        if ingest_task is not None:
            ingest_task >> validated
        validated >> archive_task()
    return group
