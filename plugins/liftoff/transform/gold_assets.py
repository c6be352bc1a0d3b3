"""The warehouse's tables as Airflow assets, named the OpenLineage way for PostgreSQL tables:
the gold tables, and the landing tables that the gate (the contract check in each source's
``validate`` task) judges.

A gold asset's URI is ``postgres://<host>:<port>/<database>/gold/<table>`` (Airflow's
PostgreSQL asset scheme), and its name ``<database>.gold.<table>`` (OpenLineage's dataset
name; its namespace is ``postgres://<host>:<port>``). Every gold model of the dbt project
is one asset. The run's ``transformed`` task updates them all once every layer of its day
is built and tested, with the day in the event's extra (``{"day": "2026-11-20"}``), so
that a consumer DAG scheduled on them knows which day is new.

Parsing a DAG reads the manifest and the configured warehouse's address; the URI holds no
password, and nothing connects to the warehouse.
"""

from __future__ import annotations

import functools
import json

import msgspec
from airflow.sdk import Asset

from liftoff.config import GOLD_SCHEMA, MANIFEST_PATH, get_settings, landing_schema


class _Node(msgspec.Struct):
    """What ``gold_tables`` reads of a node of the manifest (the rest is skipped, not built)."""

    name: str
    resource_type: str
    fqn: list[str] = []
    tags: list[str] = []


class _Manifest(msgspec.Struct):
    nodes: dict[str, _Node]


@functools.cache
def gold_tables() -> tuple[str, ...]:
    """The gold models of the dbt project (its manifest), sorted; not the previews of today
    (tag ``preview``: the wall clock's today, which a day's run does not refresh).

    Every task parses its DAG file, so this runs in each: msgspec decodes only these four
    fields of each node, 2 ms of CPU in a fresh task process where ``json.loads`` of the whole
    1.2 MB manifest took 10."""
    raw = MANIFEST_PATH.read_bytes()
    try:
        manifest = msgspec.json.decode(raw, type=_Manifest)
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError:  # JSON that dbt writes and msgspec refuses: NaN (from a meta)
        manifest = msgspec.convert(json.loads(raw), type=_Manifest)
    nodes = manifest.nodes.values()
    return tuple(
        sorted(
            n.name
            for n in nodes
            if n.resource_type == "model" and n.fqn[1:2] == [GOLD_SCHEMA] and "preview" not in n.tags
        )
    )


def warehouse_address() -> tuple[str, int, str]:
    """Host, port and database of the warehouse the tasks write (the embedded one by default).
    The warehouse module is imported inside this function, so parsing a DAG imports no
    database driver."""
    from liftoff.warehouse.location import EMBEDDED_DATABASE, Warehouse, configured_warehouse_url

    url = configured_warehouse_url()
    if url:
        target = Warehouse.from_url(url)
        return target.host, target.port, target.database
    return "127.0.0.1", get_settings().embedded_pg_port, EMBEDDED_DATABASE


def table_dataset(schema: str, table: str) -> tuple[str, str]:
    """A table of the warehouse as an OpenLineage dataset: (namespace, name), as above."""
    host, port, database = warehouse_address()
    return f"postgres://{host}:{port}", f"{database}.{schema}.{table}"


def table_asset(schema: str, table: str, group: str) -> Asset:
    """A table of the warehouse as an asset: its dataset's name, and as URI the namespace
    followed by the name's parts."""
    namespace, name = table_dataset(schema, table)
    return Asset(uri=f"{namespace}/{name.replace('.', '/')}", name=name, group=group)


def gold_asset(table: str) -> Asset:
    return table_asset(GOLD_SCHEMA, table, GOLD_SCHEMA)


def landing_asset(source: str, stream: str) -> Asset:
    """A stream's landing table (``raw_<source>.<stream>``): the gate updates it for each batch it
    passes, with the batch's counts and top errors in the event's extra (the data quality)."""
    return table_asset(landing_schema(source), stream, "raw")


def gold_assets() -> list[Asset]:
    return [gold_asset(table) for table in gold_tables()]
