"""The connector runner's fast paths land exactly what the CDK's own paths land.

- ``_record``: the CRM manifest keeps the whole record with ``AddFields`` (``{{ record }}``),
  which the CDK renders through Jinja and parses back for every record. The runner takes
  that transformation out when it is a stream's last (``cdk_runner.take_whole_record``) and
  its writer adds the same JSON. The same window lands twice through the real CDK: with the
  manifest as shipped, and with a no-op transformation after the ``AddFields`` (so the CDK
  keeps it and renders ``_record`` itself). Every column but the random id and the
  extraction time is equal, row for row, as text.
- ``dpath.get``: the runner indexes straight along a path of plain keys
  (``cdk_runner.direct_field_paths``); on every kind of path, it returns what dpath returns
  (with the options the CDK sets), or raises what dpath raises.
- The cursors' bookkeeping (``cdk_runner.skip_cursor_state``) is skipped for the shipped
  manifest and kept for one with ``pagination_reset``, which reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date, timedelta
from pathlib import Path

import yaml
from psycopg import sql

from liftoff.batch import Interval
from liftoff.config import TELEMETRY_OFF, Settings, SourceConfig, load_sources
from liftoff.ingest import cdk_runner
from liftoff.ingest.landing_layout import WHOLE_RECORD
from liftoff.ingest.local import connector_config, run_connector
from liftoff.warehouse.location import Warehouse

DAY = date(2026, 11, 18)
STREAMS = ("sales", "sellers", "products")
NO_OP = {"type": "RemoveFields", "field_pointers": [["_liftoff_absent_field"]]}  # removes nothing


def land(source: SourceConfig, interval: Interval, config: dict, target: Warehouse, schema: str) -> dict:
    """One run of ``cdk_runner.py`` (in the CDK's virtualenv) into ``schema``: records per stream."""
    return run_connector("crm", source, interval, config, target, Settings(), schema, 300).records


def in_connector_python(code: str, *args: str):
    """Run ``code`` in the CDK's virtualenv, the runner's folder as its first argument (then
    ``args``); what it printed last, as JSON."""
    done = subprocess.run(
        [str(Settings().airbyte_python), "-c", code, str(Path(cdk_runner.__file__).parent), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **TELEMETRY_OFF},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def taken(manifest: Path) -> list[str]:
    """The streams whose ``_record`` the runner's writer adds, for ``manifest``."""
    code = (
        "import json, sys, yaml; sys.path.insert(0, sys.argv[1]); import cdk_runner;"
        " manifest = yaml.safe_load(open(sys.argv[2]));"
        " print(json.dumps(sorted(cdk_runner.take_whole_record(manifest)[1])))"
    )
    return in_connector_python(code, str(manifest))


def rows(conn, schema: str, stream: str) -> list[tuple]:
    columns = [
        name
        for (name,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s"
            " and table_name = %s and column_name not in ('_airbyte_raw_id', '_airbyte_extracted_at')"
            " order by column_name",
            (schema, stream),
        )
    ]
    as_text = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns)
    return sorted(
        conn.execute(sql.SQL("select {} from {}").format(as_text, sql.Identifier(schema, stream))).fetchall(),
        key=repr,
    )


def test_the_writers_whole_record_equals_the_cdks(
    sales_api: str, warehouse: Warehouse, tmp_path: Path
) -> None:
    source = load_sources()["crm"]
    interval = Interval(Interval.for_day(DAY).start, Interval.for_day(DAY + timedelta(days=1)).end)
    config = connector_config(source, interval, {**os.environ, source.config.base_url_env: sales_api})
    manifest = yaml.safe_load(source.manifest_path.read_text())
    for stream in manifest["streams"]:
        stream["transformations"] = [*stream["transformations"], NO_OP]
    kept = tmp_path / "crm_keeps_add_fields.yaml"
    kept.write_text(yaml.safe_dump(manifest, sort_keys=False))

    assert taken(source.manifest_path) == sorted(STREAMS), "the shipped manifest: the writer adds _record"
    assert taken(kept) == [], "AddFields not last: the CDK renders _record itself"
    variant = yaml.safe_load(source.manifest_path.read_text())
    sales, sellers, _ = variant["streams"]
    sales["$parameters"] = {"name": sales.pop("name")}  # named the low-code way
    sellers["retriever"]["record_selector"] = {
        **variant["definitions"]["record_selector"],
        "record_filter": {"type": "RecordFilter", "condition": "{{ record['_record'] }}"},
    }
    named = tmp_path / "crm_variant.yaml"
    named.write_text(yaml.safe_dump(variant, sort_keys=False))
    assert taken(named) == ["products", "sales"], "a $parameters name read; a record filter keeps AddFields"
    by_writer = land(source, interval, config, warehouse, "by_writer")
    by_cdk = land(source.model_copy(update={"manifest": str(kept)}), interval, config, warehouse, "by_cdk")
    assert by_writer == by_cdk and by_writer["sales"] > 0

    with warehouse.connect() as conn:
        for stream in STREAMS:
            assert rows(conn, "by_writer", stream) == rows(conn, "by_cdk", stream), stream
        (without,) = conn.execute(
            sql.SQL("select count(*) from by_writer.sales where {} is null").format(
                sql.Identifier(WHOLE_RECORD)
            )
        ).fetchone()
        sale = conn.execute(
            sql.SQL("select sale_id, {}::jsonb from by_writer.sales limit 1").format(
                sql.Identifier(WHOLE_RECORD)
            )
        ).fetchone()
    assert without == 0
    assert sale[1]["sale_id"] == sale[0] and WHOLE_RECORD not in sale[1], "the record as sent, nothing added"


CURSOR_OBSERVES = """
import json, logging, sys
sys.path.insert(0, sys.argv[1])
import cdk_runner
from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
original = ConcurrentCursor.observe
request = {"manifest": sys.argv[2], "config": json.loads(sys.argv[3]), "streams": ["sales"]}
cdk_runner.read(request, logging.getLogger("airbyte.test"))  # the messages are read lazily: none here
print(json.dumps(ConcurrentCursor.observe is original))
"""


def test_the_cursor_bookkeeping_stays_for_a_manifest_with_pagination_reset(tmp_path: Path) -> None:
    """The runner skips the cursors' per-record bookkeeping (``skip_cursor_state``) unless the
    manifest has ``pagination_reset``, whose window split starts from the newest value a cursor
    observed: there the CDK's own ``observe`` stays."""
    source = load_sources()["crm"]
    config = connector_config(
        source, Interval.for_day(DAY), {**os.environ, source.config.base_url_env: "http://x"}
    )
    variant = yaml.safe_load(source.manifest_path.read_text())
    variant["streams"][0]["retriever"]["pagination_reset"] = {
        "type": "PaginationReset",
        "action": "SPLIT_USING_CURSOR",
    }
    resets = tmp_path / "crm_pagination_reset.yaml"
    resets.write_text(yaml.safe_dump(variant, sort_keys=False))

    def observes(manifest: Path) -> bool:
        return in_connector_python(CURSOR_OBSERVES, str(manifest), json.dumps(config))

    assert observes(source.manifest_path) is False, "the shipped manifest: the bookkeeping is skipped"
    assert observes(resets) is True, "with pagination_reset the CDK's observe stays"


DPATH_CASES = """
import json, sys
sys.path.insert(0, sys.argv[1])
import airbyte_cdk.sources  # its dpath options, as in a sync (empty keys allowed)
import dpath, cdk_runner
original = dpath.get
cdk_runner.direct_field_paths()
assert dpath.get is not original
body = {"data": [{"id": 1, "": "empty key"}], "meta": {"next": {"page": 2}, "list": [{"x": 1}]}, "a*b": 3}
paths = [["data"], ["meta", "next"], ["meta", "next", "page"], ["meta", "list", "0"], ["missing"],
         ["meta", "missing"], ["data", "id"], ["a*b"], ["*"], ["meta", "*"], [""], "data", "meta/next", []]
outcomes = []
for path in paths:
    for kwargs in ({"default": []}, {}):
        said = []
        for get in (original, dpath.get):
            try:
                said.append(["value", get(body, path, **kwargs)])
            except Exception as exc:
                said.append(["error", type(exc).__name__])
        outcomes.append([path, kwargs, said[0] == said[1], said[1]])
print(json.dumps({"outcomes": outcomes}))
"""


def test_direct_field_paths_answer_as_dpath_does() -> None:
    said = in_connector_python(DPATH_CASES)
    outcomes = said["outcomes"]
    assert len(outcomes) == 28
    assert [case for case in outcomes if not case[2]] == []
    found = {json.dumps(path): said for path, kwargs, _, said in outcomes if kwargs}
    assert found[json.dumps(["meta", "next", "page"])] == ["value", 2], "a plain path is indexed"
    assert found[json.dumps(["missing"])] == ["value", []], "a missing key: dpath's default"
