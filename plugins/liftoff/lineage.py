"""Lineage: an OpenLineage event at the start and the end of every task (the Airflow provider
``apache-airflow-providers-openlineage``), with the datasets each task reads and writes.

Where the events go: the embedded default (``liftoff airflow``, ``liftoff run``) writes each one
to a file of its own under ``$LIFTOFF_HOME/lineage/`` (``lineage_env``); a team deployment
sends them where its ``[openlineage]`` settings say (``OPENLINEAGE_URL``, Marquez: off unless
set). Settings already in the environment are kept.

Which datasets: the dbt models' come from Cosmos (dbt's manifest and run results); ours from
``lineage_task``, a ``@task`` whose operator answers the provider's
``get_openlineage_facets_on_start/complete`` with what a function of the task's return value
says (``TaskLineage``). Airflow assets (inlets/outlets, the hook lineage collector) would reach
OpenLineage only for the URI schemes a provider converts (not an API's, nor S3 without the Amazon
provider) and without facets (the gate's counts). Names follow OpenLineage's naming spec:
``postgres://host:port`` + ``database.schema.table`` (as ``liftoff.transform.gold_assets``),
``kafka://host:port`` + the topic, ``s3://bucket`` + the key, ``file`` + the path, and an API's
``scheme://host:port`` + its path and stream.

Parsing a DAG imports nothing of OpenLineage: the datasets are made when a task runs.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

NAMESPACE = "liftoff"  # the jobs' namespace: the DAG's tasks are its jobs (`sales_elt.<task>`)
EVENTS_FOLDER = "lineage"
EVENT_FILE_PREFIX = "events"  # events-<time>-<job>-<START|COMPLETE|FAIL>.json
EMISSION_POLICY = json.dumps([{"scope": {}, "controls": {"include_source_code": False}}])


def lineage_dir(home: Path) -> Path:
    return home / EVENTS_FOLDER


def lineage_env(home: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``[openlineage]`` settings of an embedded Airflow whose ``LIFTOFF_HOME`` is ``home``:
    one JSON file per event under ``home/lineage`` (made here). A transport or a URL already
    set in ``environ`` (the process's) wins, as does any of these settings set there."""
    environ = os.environ if environ is None else environ
    defaults = {
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        # the tasks' code is in the repository: the events need not carry it
        "AIRFLOW__OPENLINEAGE__EMISSION_POLICY": EMISSION_POLICY,
        # emitted from a thread of the task's process (at most [openlineage] execution_timeout),
        # not from a fork of it: no process of a task outlives it
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }
    env = {name: environ.get(name, value) for name, value in defaults.items()}
    configured = ("AIRFLOW__OPENLINEAGE__TRANSPORT", "AIRFLOW__OPENLINEAGE__CONFIG_PATH", "OPENLINEAGE_URL")
    if any(environ.get(name) for name in configured):
        return env
    folder = lineage_dir(home.resolve())  # the tasks' working directory is not ours
    folder.mkdir(parents=True, exist_ok=True)
    transport = {
        "type": "file",
        "log_file_path": str(folder / EVENT_FILE_PREFIX),
        "append": False,  # a file per event: tasks run side by side, no interleaved lines
        "debug_mode": True,  # the file's name says its job and event type
    }
    env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(transport)
    return env


# Dataset names (OpenLineage's naming spec): (namespace, name) pairs, made without the client.


def postgres_table(schema: str, table: str) -> tuple[str, str]:
    """A table of the warehouse the tasks write, named as its asset is."""
    from liftoff.transform.gold_assets import table_dataset

    return table_dataset(schema, table)


def _address(url: str, default_scheme: str = "http") -> str:
    """``scheme://host:port`` of ``url``: no login, no path; the scheme's port when it has none."""
    parts = urlsplit(url if "://" in url else f"{default_scheme}://{url}")
    port = parts.port or {"http": 80, "https": 443, "kafka": 9092}.get(parts.scheme, 0)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def api_stream(base_url: str, path: str, stream: str) -> tuple[str, str]:
    """A stream of an HTTP API: the namespace is the API's address, the name its path and stream."""
    return _address(base_url), "/".join(part for part in (path.strip("/"), stream) if part)


def kafka_topic(bootstrap_servers: str, topic: str) -> tuple[str, str]:
    """A Kafka topic, named by its cluster's first bootstrap server (as the Kafka provider's assets)."""
    return _address(bootstrap_servers.split(",")[0].strip(), "kafka"), topic


def archive_object(store, key: str) -> tuple[str, str]:
    """An object of the archive: ``s3://bucket`` + the key (MinIO), ``file`` + the path (a folder)."""
    bucket = getattr(store, "bucket", None)
    if bucket:
        return f"s3://{bucket}", key
    return "file", str(Path(store.root).resolve() / key)


@dataclass
class TaskLineage:
    """What a task read and wrote: (namespace, name) pairs, each with its facets by name (the
    OpenLineage client's facet objects)."""

    inputs: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    input_facets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    output_facets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def operator_lineage(self):
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import InputDataset, OutputDataset

        return OperatorLineage(
            inputs=[
                InputDataset(namespace, name, inputFacets=self.input_facets.get((namespace, name), {}))
                for namespace, name in dict.fromkeys(self.inputs)
            ],
            outputs=[
                OutputDataset(namespace, name, outputFacets=self.output_facets.get((namespace, name), {}))
                for namespace, name in dict.fromkeys(self.outputs)
            ],
        )


def gate_facets(result: Mapping[str, Any], max_reject_ratio: float) -> dict[str, Any]:
    """A landed batch's data quality as the gate found it (``liftoff.pipeline.validate``'s
    result of one stream): its rows (``dataQualityMetrics``) and the contract's assertions
    (``dataQualityAssertions``: the batch within its reject threshold, landed = accepted +
    rejected, and each field rows failed on)."""
    from openlineage.client.generated.data_quality_assertions_dataset import (
        Assertion,
        DataQualityAssertionsDatasetFacet,
    )
    from openlineage.client.generated.data_quality_metrics_input_dataset import (
        DataQualityMetricsInputDatasetFacet,
    )

    landed, accepted, rejected = result["landed"], result["accepted"], result["rejected"]
    ratio = rejected / landed if landed else 0.0
    assertions = [
        Assertion(assertion=f"accepted {accepted} of {landed} rows", success=rejected == 0),
        Assertion(
            assertion=f"rejected {rejected} rows: ratio {ratio:.4f} <= {max_reject_ratio}",
            success=ratio <= max_reject_ratio,
        ),
        Assertion(assertion="landed = accepted + rejected", success=landed == accepted + rejected),
    ]
    assertions += [
        Assertion(assertion=f"contract: {rows} rows invalid", success=False, column=column)
        for column, rows in (result.get("top_errors") or {}).items()
    ]
    return {
        "dataQualityMetrics": DataQualityMetricsInputDatasetFacet(columnMetrics={}, rowCount=landed),
        "dataQualityAssertions": DataQualityAssertionsDatasetFacet(assertions=assertions),
    }


def row_count_facets(rows: int) -> dict[str, Any]:
    """An output's rows written (``outputStatistics``)."""
    from openlineage.client.generated.output_statistics_output_dataset import (
        OutputStatisticsOutputDatasetFacet,
    )

    return {"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=rows)}


LineageOf = Callable[[Any], TaskLineage]  # the task's return value (None before it ran) -> its lineage


@functools.cache
def lineage_operator_class() -> type:
    """``@task``'s operator, with its lineage for the OpenLineage provider: ``lineage(None)``
    when the task starts, ``lineage(return value)`` when it ends (None again if it failed).
    The provider calls these methods in the task's own process, on the operator that ran.
    Made on first use: importing this module (``liftoff airflow``'s settings) imports no Airflow."""
    from airflow.providers.standard.decorators.python import _PythonDecoratedOperator

    class LineagePythonOperator(_PythonDecoratedOperator):
        custom_operator_name = "@task"

        def __init__(self, *, lineage: LineageOf, **kwargs) -> None:
            super().__init__(**kwargs)
            self._lineage = lineage
            self._lineage_result: Any = None

        def execute(self, context):
            from liftoff.errors import task_errors

            with task_errors():  # the one place a task's error becomes "fail now" or "retry"
                self._lineage_result = super().execute(context)
            return self._lineage_result

        def get_openlineage_facets_on_start(self):
            return self._lineage(None).operator_lineage()

        def get_openlineage_facets_on_complete(self, task_instance):
            return self._lineage(self._lineage_result).operator_lineage()

    LineagePythonOperator.__module__ = __name__
    return LineagePythonOperator


def lineage_task(*, lineage: LineageOf, **task_kwargs):
    """``@task(...)`` whose OpenLineage events carry ``lineage`` (see ``lineage_operator_class``)."""
    from airflow.sdk.bases.decorator import task_decorator_factory

    return task_decorator_factory(
        decorated_operator_class=lineage_operator_class(), lineage=lineage, **task_kwargs
    )


# The lineage of a source's tasks (``liftoff.source_group``) and of the transform's end.


def _landing(name: str, source) -> dict[str, tuple[str, str]]:
    from liftoff.config import landing_schema

    return {stream: postgres_table(landing_schema(name), stream) for stream in source.streams}


def source_streams(source) -> dict[str, tuple[str, str]]:
    """Where a source's streams come from, by stream: its Kafka topic (the cluster of its
    connection) or its API (the URL in its ``base_url_env``); none when it is not configured."""
    if source.kafka is not None:
        from liftoff.ingest.secrets import airflow_connection

        servers = airflow_connection(source.kafka.conn_id).extra_dejson.get("bootstrap.servers")
        if not servers:
            return {}
        return {stream: kafka_topic(servers, source.kafka.topic) for stream in source.streams}
    base_url = source.config and os.environ.get(source.config.base_url_env)
    if not base_url:
        return {}
    return {stream: api_stream(base_url, source.config.base_path, stream) for stream in source.streams}


def ingest_lineage(name: str, source) -> LineageOf:
    """ingest: each stream (API or topic) -> its landing table, with the rows landed."""

    def lineage(result) -> TaskLineage:
        landing = _landing(name, source)
        found = TaskLineage(inputs=list(source_streams(source).values()), outputs=list(landing.values()))
        for stream, rows in (result or {}).items():
            if stream in landing and isinstance(rows, int):
                found.output_facets[landing[stream]] = row_count_facets(rows)
        return found

    return lineage


AUDIT_BATCHES = ("audit", "batches")
AUDIT_QUARANTINE = ("audit", "quarantine")


def gate_lineage(name: str, source) -> LineageOf:
    """validate: each landing table (its batch's data quality) -> audit.batches, audit.quarantine."""

    def lineage(result) -> TaskLineage:
        landing = _landing(name, source)
        quarantine = postgres_table(*AUDIT_QUARANTINE)
        found = TaskLineage(
            inputs=list(landing.values()), outputs=[postgres_table(*AUDIT_BATCHES), quarantine]
        )
        if result:
            for stream, counts in result.items():
                threshold = source.streams[stream].max_reject_ratio
                found.input_facets[landing[stream]] = gate_facets(counts, threshold)
            found.output_facets[quarantine] = row_count_facets(sum(c["rejected"] for c in result.values()))
        return found

    return lineage


def archive_lineage(name: str, source) -> LineageOf:
    """archive: each landing table -> its batch's object in the archive (known once written)."""

    def lineage(result) -> TaskLineage:
        found = TaskLineage(inputs=list(_landing(name, source).values()))
        if result:
            from liftoff.archive.location import airflow_archive_store

            store = airflow_archive_store()
            found.outputs = [archive_object(store, key) for key in result.values()]
        return found

    return lineage


def freshness_lineage(name: str, source) -> LineageOf:
    """freshness: reads the landing tables."""
    return lambda result: TaskLineage(inputs=list(_landing(name, source).values()))


def transformed_lineage(tables: list[str]) -> LineageOf:
    """transformed: the day's gold tables, built and tested -> the refresh log (audit.refreshes)."""
    from liftoff.config import GOLD_SCHEMA

    return lambda result: TaskLineage(
        inputs=[postgres_table(GOLD_SCHEMA, table) for table in tables],
        outputs=[postgres_table("audit", "refreshes")],
    )


def export_lineage(result) -> TaskLineage:
    """gold_export: each gold table -> its day's CSV in the archive, with its rows."""
    from liftoff.config import GOLD_SCHEMA
    from liftoff.transform.gold_assets import gold_tables

    found = TaskLineage(inputs=[postgres_table(GOLD_SCHEMA, table) for table in gold_tables()])
    if result:
        from liftoff.archive.location import airflow_archive_store

        store = airflow_archive_store()
        for export in result:
            dataset = archive_object(store, export["key"])
            found.outputs.append(dataset)
            found.output_facets[dataset] = row_count_facets(export["rows"])
    return found
