"""The task group of one source in ``sales_elt``: ingest >> validate >> archive. After
validate come the source's freshness check and, for a day far quieter than usual, a
person's approval.

The steps themselves live in ``liftoff.pipeline``, not here, so that parsing the DAG imports
no database driver, object-store client or connector: each task imports its step when it runs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from airflow.sdk import TaskGroup, get_current_context

from liftoff.batch import PARTIAL_DAY, day_not_ended
from liftoff.config import SourceConfig
from liftoff.errors import Refused
from liftoff.lineage import (
    archive_lineage,
    freshness_lineage,
    gate_lineage,
    ingest_lineage,
    lineage_task,
)
from liftoff.transform.gold_assets import landing_asset

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow.sdk.definitions._internal.abstractoperator import AbstractOperator

    from liftoff.batch import Interval

log = logging.getLogger(__name__)


def run_interval(context) -> Interval:
    """The run's data interval, as the steps take it.

    A run without one (triggered without a logical date) fails in one line, as does a run
    of a day that has not ended, unless its config says ``{"partial_day": true}``.
    """
    from liftoff.batch import Interval

    start: datetime | None = context.get("data_interval_start")
    end: datetime | None = context.get("data_interval_end")
    if start is None or end is None:
        raise Refused(
            "this run has no data interval (it was triggered without a logical date): trigger it with"
            " the day as its logical date, e.g. 2026-11-20T00:00:00+00:00 for 2026-11-20"
        )
    conf = context["dag_run"].conf or {}
    if end > datetime.now(UTC) and not conf.get(PARTIAL_DAY):
        raise Refused(
            day_not_ended(
                start.date(),
                f'a run covers a whole day; trigger it with config {{"{PARTIAL_DAY}": true}}'
                " (liftoff run --partial-day) to run it anyway",
            )
        )
    return Interval(start, end)


def source_task_group(name: str, source: SourceConfig, conn_id: str = "warehouse") -> TaskGroup:
    """The task group of one source: ingest >> validate >> archive (a pushed source has no
    ingest task). A source with ``freshness`` thresholds adds validate >> freshness; a source
    with a stream's ``min_volume_ratio`` adds validate >> approve_low_volume."""

    def run_step(step, *, with_run_id: bool = False, **kwargs):
        from liftoff.warehouse.location import airflow_warehouse

        context = get_current_context()
        if with_run_id:
            kwargs["run_id"] = context["run_id"]
        # a permanent error fails the task at once, a transient one is retried (liftoff.errors)
        return step(name, source, run_interval(context), airflow_warehouse(conn_id), **kwargs)

    with TaskGroup(group_id=name, tooltip=source.description) as group:
        mode = source.ingest_mode(name)
        if mode == "push":
            ingest_task = None  # the app has landed the rows already
        elif mode == "airbyte":
            from liftoff.operators.airbyte_sync import AirbyteSyncOperator

            server = source.airbyte
            ingest_task = AirbyteSyncOperator(
                task_id="ingest",
                doc_md=f"Trigger the Airbyte server's sync of `{name}` into `raw_{name}`; wait deferred.",
                source=name,
                airbyte_conn_id=server.conn_id,
                connection_id=server.connection_id or "",  # else read from connection_id_env at run time
                connection_id_env=server.connection_id_env,
                timeout=server.timeout_seconds,
                execution_timeout=timedelta(seconds=server.timeout_seconds + 300),
                lineage=ingest_lineage(name, source),
            )
        else:
            doc = (
                f"Land the messages Kafka topic `{source.kafka.topic}` received in the run's interval"
                f" into `raw_{name}` (connection `{source.kafka.conn_id}`)."
                if mode == "stream"
                else f"Sync the run's interval of `{name}` into `raw_{name}` (the Airbyte CDK)."
            )

            @lineage_task(task_id="ingest", doc_md=doc, lineage=ingest_lineage(name, source))
            def local_ingest() -> dict:
                from liftoff.ingest.skipping import skip_ingest_requested
                from liftoff.pipeline import ingest

                if skip_ingest_requested(get_current_context(), log):
                    return {"skipped": True}
                return run_step(ingest)

            ingest_task = local_ingest()

        landing = {stream: landing_asset(name, stream) for stream in source.streams}

        @lineage_task(
            task_id="validate",
            lineage=gate_lineage(name, source),
            outlets=list(landing.values()),
            doc_md="Gate each landed batch with its contract; quarantine rejects. Each landing"
            " table's asset event carries its batch's counts and top errors.",
        )
        def validate_task() -> dict:
            from liftoff.pipeline import validate

            context = get_current_context()
            conf = context["dag_run"].conf or {}
            results = run_step(
                validate, with_run_id=True, accept_low_volume=bool(conf.get("accept_low_volume"))
            )
            for stream, result in results.items():  # the data quality, where the asset is
                keys = ("landed", "accepted", "rejected", "top_errors", "volume_drop")
                counts = {key: result[key] for key in keys}
                ratio = round(result["rejected"] / result["landed"], 6) if result["landed"] else 0.0
                context["outlet_events"][landing[stream]].extra = {
                    "day": run_interval(context).day.isoformat(),
                    "run_id": context["run_id"],
                    **counts,
                    "reject_ratio": ratio,
                }
            return results

        @lineage_task(
            task_id="archive",
            doc_md="Write each batch to the raw archive and check it back.",
            lineage=archive_lineage(name, source),
        )
        def archive_task() -> dict:
            from liftoff.archive.location import airflow_archive_store
            from liftoff.pipeline import archive

            conf = get_current_context()["dag_run"].conf or {}
            replace_smaller = bool(conf.get("replace_smaller_archive"))
            return run_step(
                archive, with_run_id=True, store=airflow_archive_store(), replace_smaller=replace_smaller
            )

        @lineage_task(
            task_id="freshness",
            lineage=freshness_lineage(name, source),
            doc_md="Hours from the newest cursor landed to the day's end, against the source's"
            " `freshness` in sources.yaml: over `warn_after` a warning, over `error_after` the day fails.",
        )
        def freshness_task() -> dict:
            from liftoff.validate.freshness import check_freshness

            return run_step(check_freshness)

        validated = validate_task()
        if ingest_task is not None:
            ingest_task >> validated
        validated >> archive_task()
        if source.freshness is not None:
            validated >> freshness_task()
        if any(stream.min_volume_ratio for stream in source.streams.values()):
            from liftoff.operators.low_volume import LowVolumeApprovalOperator

            LowVolumeApprovalOperator(
                task_id="approve_low_volume",
                doc_md="A day far under its streams' `min_volume_ratio` waits here for a person's"
                " decision (*Required Actions*): approve and it goes on, reject and it fails.",
                source=name,
                validated=validated,
            )
    return group


def gates(groups: Iterable[TaskGroup]) -> list[AbstractOperator]:
    """Each source's contract gate (its ``validate`` task): what the day's bronze waits for,
    since bronze reads only the gated batches (its own slice of the day)."""
    return [group.children[f"{group.group_id}.validate"] for group in groups]


def leaves(groups: Iterable[TaskGroup]) -> list[AbstractOperator]:
    """Each source's last tasks: ``archive``, and the checks after ``validate`` (``freshness``,
    ``approve_low_volume``). Silver waits for them: nothing of a day reaches silver or gold
    before its batches are archived, fresh enough, and, on a quiet day, approved."""
    return [task for group in groups for task in group.get_leaves()]
