"""The steps of one daily run for one source: ingest, validate, archive.

Each step is a plain function of the run's data interval (testable without Airflow);
``liftoff.source_group`` wires them into the DAG. Failures a retry cannot fix (bad
configuration, a batch over its reject threshold) fail the task at once with a one-line
reason.
"""

from __future__ import annotations

import logging

from liftoff.archive.archiver import archive_batch
from liftoff.archive.store import ObjectStore
from liftoff.batch import Batch, Interval
from liftoff.config import Settings, SourceConfig, get_settings
from liftoff.ingest.local import sync_interval
from liftoff.validate.gate import validate_batch
from liftoff.validate.volume import volume_drop
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import get_contract

log = logging.getLogger(__name__)


def ingest(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: Warehouse,
    settings: Settings | None = None,
) -> dict[str, int]:
    """Land the run's batch of every stream of ``source`` in ``raw_<name>``: local mode with
    the Airbyte CDK, stream mode from the source's Kafka topic.

    Server mode has no such function: the task is an ``AirbyteSyncOperator`` (``liftoff.source_group``).
    """
    if source.is_streamed:
        from liftoff.ingest.stream import land_stream  # the Kafka client only where a stream is read

        return land_stream(name, source, interval, target)
    settings = settings or get_settings()
    landed = sync_interval(name, source, interval, target, settings)
    log.info("landed %s for %s: %s", name, interval.day, landed)
    return landed


def validate(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: Warehouse,
    run_id: str | None = None,
    accept_low_volume: bool = False,
) -> dict[str, dict]:
    """Check every batch of ``source`` against its contract (the gate, ``liftoff.validate.gate``);
    raise BatchRejected if one is over its reject threshold.

    A batch far quieter than its recent days gets a ``volume_drop`` line in its result (the
    source's approval task asks a person about it), unless the run sets ``accept_low_volume``."""
    results = {}
    with target.connect() as conn:
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
            drop = volume_drop(conn, batch, result.landed, stream.min_volume_ratio)
            if drop and accept_low_volume:
                log.warning("%s: accepted by the run's config (accept_low_volume)", drop)
            results[batch.stream] = {
                "landed": result.landed,
                "accepted": result.accepted,
                "rejected": result.rejected,
                "checksum": result.checksum,
                "top_errors": dict(result.errors_by_field.most_common(5)),  # rows by field in error
                "volume_drop": None if accept_low_volume else drop,
            }
    return results


def archive(
    name: str,
    source: SourceConfig,
    interval: Interval,
    target: Warehouse,
    store: ObjectStore,
    run_id: str | None = None,
    replace_smaller: bool = False,
) -> dict[str, str]:
    """Archive every batch of ``source`` in ``store``; returns the object key per stream.
    A batch smaller than its day's archived part fails unless ``replace_smaller``."""
    keys = {}
    with target.connect() as conn:
        for batch in Batch.all_of(name, source, interval):
            archived = archive_batch(conn, batch, store, run_id=run_id, replace_smaller=replace_smaller)
            log.info("archived %s rows of %s to %s in %s", archived.rows, batch.batch_id, archived.key, store)
            keys[batch.stream] = archived.key
    return keys
