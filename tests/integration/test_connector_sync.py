"""A real PyPI connector (airbyte-source-s3, unmodified) through our runner, against the tests' MinIO.

A supplier drops its orders as JSON Lines files in a bucket; the source maps them to the
``order`` contract. Two syncs, a day apart, show the STATE kept in the warehouse (the second
reads only the new file), the merge (a rerun never duplicates), and the schema changes of
the second day's file: a field added, one renamed (a removal plus an addition, reported
together), one retyped (its values land null with the reason, never a failed load), and the
renamed field's rows quarantined by the contract with the reason, over the threshold: the
run stops. The changes come in one alert (a webhook), once.
"""

from __future__ import annotations

import io
import json
import os
from datetime import date
from pathlib import Path

import pytest
from minio import Minio

from liftoff.batch import Batch, Interval
from liftoff.config import ConfigError, Settings, SourceConfig, get_settings
from liftoff.ingest.connectors import ConnectorPackage, install
from liftoff.ingest.local import sync_interval
from liftoff.validate.gate import BatchRejected, validate_batch
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import get_contract
from tests.alert_sinks import WebhookSink
from tests.minio_server import MinioServer

S3 = ConnectorPackage.parse("airbyte-source-s3==4.14.2")
DAY1, DAY2 = date(2026, 11, 20), date(2026, 11, 21)
SECRET = "supplier-secret-not-in-logs"


def order(n: int, day: date, **changes) -> dict:
    record = {
        "order_id": f"S-{n}",
        "sales_rep": "ana@example.com",
        "placed_at": f"{day}T10:0{n % 10}:00+00:00",
        "modified_at": f"{day}T11:0{n % 10}:00Z",
        "lines": [{"sku": "P-1", "quantity": 2, "unit_price_cents": 1250}],
        "note": n,
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def put(client: Minio, key: str, records: list[dict]) -> None:
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    client.put_object("supplier", key, io.BytesIO(body), len(body))


@pytest.fixture(scope="module")
def s3_connector(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The connector installed once (cached per version, as every deployment's)."""
    root = Settings().connectors_dir
    install(S3, root)
    return root


@pytest.fixture
def supplier(minio_server: MinioServer, bootstrapped: Warehouse, monkeypatch: pytest.MonkeyPatch):
    client = Minio(
        minio_server.endpoint,
        access_key=minio_server.access_key,
        secret_key=minio_server.secret_key,
        secure=False,
    )
    if client.bucket_exists("supplier"):
        for item in client.list_objects("supplier", recursive=True):
            client.remove_object("supplier", item.object_name)
    else:
        client.make_bucket("supplier")
    monkeypatch.setenv("SUPPLIER_KEY_ID", minio_server.access_key)
    monkeypatch.setenv("SUPPLIER_SECRET", minio_server.secret_key)
    source = SourceConfig.model_validate(
        {
            "connector": {
                "package": str(S3),
                "config": {
                    "bucket": "supplier",
                    "endpoint": f"http://{minio_server.endpoint}",
                    "streams": [
                        {"name": "orders", "globs": ["orders/*.jsonl"], "format": {"filetype": "jsonl"}}
                    ],
                },
                "secrets": {
                    "aws_access_key_id": "SUPPLIER_KEY_ID",
                    "aws_secret_access_key": "SUPPLIER_SECRET",
                },
            },
            "streams": {
                "orders": {
                    "sync": "incremental",
                    "contract": "order",
                    "cursor_field": "modified_at",
                    "primary_key": "order_id",
                    "max_reject_ratio": 0.5,
                }
            },
        }
    )
    with bootstrapped.connect() as conn:
        conn.execute("create schema if not exists raw_supplier")  # what the bootstrap makes for an entry
        conn.commit()
    return client, source


def gate(target: Warehouse, source: SourceConfig, day: date):
    batch = Batch.of("supplier", "orders", source.streams["orders"], Interval.for_day(day))
    with target.connect() as conn:
        return validate_batch(conn, batch, get_contract("order"), max_reject_ratio=0.5)


def test_state_merge_and_schema_changes_across_two_syncs(
    supplier,
    bootstrapped: Warehouse,
    s3_connector: Path,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, source = supplier
    settings = Settings(home=tmp_path)
    put(client, "orders/day1.jsonl", [order(n, DAY1) for n in range(1, 4)])
    assert sync_interval("supplier", source, Interval.for_day(DAY1), bootstrapped, settings) == {"orders": 3}
    result = gate(bootstrapped, source, DAY1)
    assert (result.accepted, result.rejected) == (3, 0), "the contract passes the supplier's orders"
    # a rerun of the day reads from the state before it (none): the same rows, merged, never doubled
    assert sync_interval("supplier", source, Interval.for_day(DAY1), bootstrapped, settings) == {"orders": 3}
    with bootstrapped.connect() as conn:
        assert conn.execute("select count(*) from raw_supplier.orders").fetchone()[0] == 3
        state = conn.execute("select state from audit.connector_state where source = 'supplier'").fetchone()[
            0
        ]
        assert "orders/day1.jsonl" in json.dumps(state), "the connector's own STATE is kept per source"

    # Day 2: the supplier renamed sales_rep to seller_email, added channel, turned note into text.
    client.remove_object("supplier", "orders/day1.jsonl")
    renamed = [order(n, DAY2, sales_rep=None, seller_email="bo@example.com", channel="web") for n in (4, 5)]
    renamed[0]["note"] = "call back"
    put(client, "orders/day2.jsonl", renamed)
    caplog.set_level("WARNING")

    def sync_alerting(day: date) -> tuple[dict, list[str]]:
        """A sync of ``day`` with the alerts going to a webhook: what landed, the alerts' texts."""
        with WebhookSink() as webhook:
            monkeypatch.setenv("LIFTOFF_ALERT_WEBHOOK_URL", webhook.url)
            get_settings.cache_clear()
            try:
                landed = sync_interval("supplier", source, Interval.for_day(day), bootstrapped, settings)
            finally:
                monkeypatch.delenv("LIFTOFF_ALERT_WEBHOOK_URL")
                get_settings.cache_clear()
        return landed, [post["text"] for post in webhook.posts]

    landed, alerts = sync_alerting(DAY2)
    assert landed == {"orders": 2}
    assert len(alerts) == 1, "one alert for the sync's changes"
    alert = alerts[0]
    assert alert.startswith("[liftoff] source supplier changed its schema (found syncing 2026-11-21)")
    for line in (
        "orders.channel added (varchar)",
        "orders.seller_email added (varchar)",
        "orders.sales_rep removed (was character varying)",
        "orders.note retyped: bigint -> varchar",
        "all changes: liftoff sources changes supplier",
        "runbook.md#a-source-changed-its-schema",
    ):
        assert line in alert, f"{line!r} not in the alert:\n{alert}"
    assert os.environ["SUPPLIER_SECRET"] not in alert, "no secret in the alert"
    with bootstrapped.connect() as conn:
        changes = set(
            conn.execute(
                "select stream, field, change, old_type, new_type from audit.schema_changes"
            ).fetchall()
        )
        assert ("orders", "channel", "added", None, "varchar") in changes
        assert ("orders", "seller_email", "added", None, "varchar") in changes
        assert ("orders", "sales_rep", "removed", "character varying", None) in changes, (
            "a rename: both halves"
        )
        assert ("orders", "note", "retyped", "bigint", "varchar") in changes
        columns = {
            r[0]
            for r in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = 'raw_supplier' and table_name = 'orders'"
            )
        }
        assert {"channel", "seller_email", "sales_rep", "note"} <= columns, "new fields land; none is dropped"
        note, meta = conn.execute(
            "select note, _airbyte_meta::text from raw_supplier.orders where order_id = 'S-4'"
        ).fetchone()
        assert note is None and "no bigint value" in meta, "the retyped value lands null with its reason"
        assert conn.execute("select count(*) from raw_supplier.orders").fetchone()[0] == 5, (
            "the second sync read only the new file (the STATE of day 1)"
        )
    assert any("schema change in source supplier" in r.getMessage() for r in caplog.records)
    with pytest.raises(BatchRejected):  # both orders lack sales_rep: over the 0.5 threshold, the run stops
        gate(bootstrapped, source, DAY2)
    with bootstrapped.connect() as conn:
        errors = conn.execute(
            "select errors::text from audit.quarantine where batch_id = 'supplier.orders.20261121T0000'"
        ).fetchall()
        assert len(errors) == 2 and all("sales_rep" in e[0] for e in errors), "quarantined with the reason"
        # reported once: the next sync of the same schema records nothing new
    caplog.clear()
    assert sync_alerting(DAY2)[1] == [], "an alerted change is never alerted again"
    assert not any("schema change" in r.getMessage() for r in caplog.records)
    # a run killed between its landing and its alert: the next sync sends what it did not
    with bootstrapped.connect() as conn:
        conn.execute("update audit.schema_changes set alerted_at = null where field = 'channel'")
        conn.commit()
    alerts = sync_alerting(DAY2)[1]
    assert len(alerts) == 1 and "orders.channel added" in alerts[0] and "seller_email" not in alerts[0]


def test_bad_credentials_fail_in_one_line_without_the_secret(
    supplier, bootstrapped: Warehouse, s3_connector: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, source = supplier
    put(client, "orders/day1.jsonl", [order(1, DAY1)])
    monkeypatch.setenv("SUPPLIER_SECRET", SECRET)
    with pytest.raises(Exception) as raised:
        sync_interval("supplier", source, Interval.for_day(DAY1), bootstrapped, Settings(home=tmp_path))
    message = str(raised.value)
    assert "\n" not in message and SECRET not in message
    assert isinstance(raised.value, ConfigError), f"a config_error fails at once, not retried: {message}"
    with bootstrapped.connect() as conn:
        assert conn.execute("select to_regclass('raw_supplier.orders')").fetchone()[0] is None, (
            "nothing landed"
        )


def test_a_unix_time_cursor_puts_its_row_in_the_day_it_names(bootstrapped: Warehouse) -> None:
    """Stripe's cursors (``created``, ``updated``) are Unix seconds, some APIs' milliseconds:
    the batch of a day holds the rows whose cursor, read as such, falls in it."""
    config = SourceConfig.model_validate(
        {
            "connector": {"package": str(S3)},
            "streams": {
                "charges": {
                    "sync": "incremental",
                    "contract": "order",
                    "cursor_field": "created",
                    "primary_key": "id",
                }
            },
        }
    ).streams["charges"]
    day1_noon = 1_795_176_000  # 2026-11-20T12:00:00Z
    # 2026-11-20T10:40:05Z, whose digits PostgreSQL alone reads as a date (year 179517, Dec 5)
    date_like = 1_795_171_205
    with bootstrapped.connect() as conn:
        conn.execute("create schema if not exists raw_unixtime")
        conn.execute("drop table if exists raw_unixtime.charges")
        conn.execute("create table raw_unixtime.charges (_airbyte_raw_id text, id text, created text)")
        conn.execute(
            "insert into raw_unixtime.charges (id, created) values"
            " ('a', %s), ('b', %s), ('c', %s), ('d', %s), ('e', 'soon'), ('f', %s)",
            (
                str(day1_noon),
                f"{day1_noon + 86_400}.5",
                str((day1_noon + 3600) * 1000),
                str(day1_noon - 86_400),
                str(date_like),
            ),
        )
        counts = [
            Batch.of("unixtime", "charges", config, Interval.for_day(day)).count(conn) for day in (DAY1, DAY2)
        ]
        conn.rollback()
    assert counts == [3, 1], "seconds and milliseconds read as times; 'soon' is no time and in neither day"
