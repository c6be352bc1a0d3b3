"""sales_elt end to end through Airflow (`liftoff run`), against a real PostgreSQL.

Gold is checked against an independent computation from the demo API's own data (and, in
the first test, what the point-of-sale simulator published to a real Kafka broker), and a
rerun of a day must leave every table exactly as it was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from liftoff.local.kafka import EmbeddedKafka
from liftoff.stream.topics import create_topic
from liftoff.warehouse.location import Warehouse
from sales_api.data import corrections_for_day
from sales_api.pos import TOPIC, PosFaults, messages_for_day, publish
from tests.integration.expected import (
    CONTRACT_DIRT,
    api_orders,
    api_sales,
    assert_gold_matches,
    expected_after,
)

DAYS = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
DAY_1, DAY_2 = DAYS[1], DAYS[2]
LIFTOFF = str(Path(sys.executable).with_name("liftoff"))
POS_FAULTS = PosFaults(duplicates=0.15, late=0.1, malformed=2)
TABLES = (
    "raw_pos.sales",
    "bronze.bronze_pos_sales",
    "bronze.bronze_crm_sales",
    "bronze.bronze_shop_orders",
    "silver.silver_sales",
    "gold.gold_sales_daily",
    "gold.gold_sales_by_product_7d",
    "gold.gold_sales_by_seller_7d",
    "audit.batches",
    "audit.quarantine",
)
STABLE_COLUMNS = {  # columns that do not change with the sync (raw ids, extraction and run times do)
    "raw_pos.sales": "sale_id, amount, updated_at, _airbyte_raw_id, _kafka_partition, _kafka_offset",
    "bronze.bronze_pos_sales": "sale_id, amount, updated_at, airbyte_raw_id, batch_id",
    "bronze.bronze_crm_sales": "sale_id, seller_email, product, quantity, amount, sold_at, updated_at,"
    " batch_id",
    "bronze.bronze_shop_orders": "order_id, line_number, sales_rep, sku, quantity, amount, placed_at,"
    " modified_at, batch_id",
    "silver.silver_sales": "sale_id, record_id, source, seller_email, product_id, product, quantity, amount,"
    " sold_at, sale_date, updated_at, is_outlier",
    "audit.batches": "batch_id, landed, accepted, rejected, checksum, status, archive_key",
    "audit.quarantine": "batch_id, row_data, errors",
}


def table_hashes(target: Warehouse) -> dict[str, str]:
    hashes = {}
    with target.connect() as conn:
        for table in TABLES:
            columns = STABLE_COLUMNS.get(table, "*")
            query = (
                "select md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                f" from (select {columns} from {table}) t"
            )
            hashes[table] = conn.execute(query).fetchone()[0]
    return hashes


CRM_SALES_BATCHES = "from audit.batches where source = 'crm' and stream = 'sales'"


def run_env(warehouse: Warehouse, api_url: str, home: Path, **settings: str) -> dict[str, str]:
    """The environment of a `liftoff run` against ``warehouse``; ``settings`` adds LIFTOFF_* ones."""
    return {
        **os.environ,
        "LIFTOFF_WAREHOUSE_URL": warehouse.url,
        "LIFTOFF_API_URL": api_url,
        "LIFTOFF_HOME": str(home),
        **{f"LIFTOFF_{key.upper()}": value for key, value in settings.items()},
    }


def liftoff_run(day: date, env: dict, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LIFTOFF, "run", "--date", day.isoformat(), *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def point_of_sale(broker: EmbeddedKafka) -> list:
    """The simulator's events of DAYS (retried, late and malformed ones too) on ``pos.sales``."""
    create_topic(broker.bootstrap_servers, TOPIC)
    messages = [m for day in DAYS for m in messages_for_day(day, faults=POS_FAULTS)]
    assert publish(broker.bootstrap_servers, messages) == len(messages)
    return messages


def positions_of_malformed(broker: EmbeddedKafka) -> set[str]:
    """Where the broker holds the messages that are no event: ``<topic>:<partition>:<offset>``,
    read back with a plain consumer of the whole topic."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "e2e-check"})
    found: set[str] = set()
    try:
        for partition in range(3):
            high = consumer.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=10)[1]
            consumer.assign([TopicPartition(TOPIC, partition, 0)])
            read = 0
            while read < high:
                for message in consumer.consume(1000, timeout=5):
                    read = message.offset() + 1
                    if not message.value().startswith(b'{"sale_id": "pos-'):
                        found.add(f"{TOPIC}:{partition}:{message.offset()}")
    finally:
        consumer.close()
    return found


def test_three_days_with_a_late_correction_then_three_reruns(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path, kafka_broker: EmbeddedKafka
) -> None:
    """Gold equals the independent computation from the CRM's, the shop's and the point-of-sale
    stream's data (its retried events counted once, its late events in their day); a correction
    made two days late shows in silver and gold after the next run; malformed events are
    quarantined with their partition and offset; rerunning a day three times changes no table."""
    api = api_server_factory(late_corrections=2)  # each day corrects two sales of two days before
    pos_messages = point_of_sale(kafka_broker)
    env = run_env(
        warehouse,
        api.url,
        liftoff_home,
        skip_sources="",
        kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
    )
    for day in DAYS:
        done = liftoff_run(day, env)
        assert done.returncode == 0, f"{day}: {done.stdout}\n{done.stderr}"
        assert f"✓ sales_elt {day}" in done.stdout

    expected = expected_after(api.url, DAYS, pos_messages)
    late = [
        m for m in pos_messages if m.event and m.arrival.date() > date.fromisoformat(m.event["sold_at"][:10])
    ]
    assert any(m.arrival.date() in DAYS for m in late), "some late events arrived within the run days"
    corrected = {s["sale_id"]: s for s in corrections_for_day(DAYS[-1], count=2)}
    assert {date.fromisoformat(s["sold_at"][:10]) for s in corrected.values()} == {DAYS[0]}
    with warehouse.connect() as conn:
        assert_gold_matches(conn, expected, DAYS)
        amounts = dict(
            conn.execute(
                "select sale_id, amount::text from silver.silver_sales where sale_id = any(%s)",
                (list(corrected),),
            ).fetchall()
        )
        assert amounts == {sale_id: sale["amount"] for sale_id, sale in corrected.items()}, (
            "the correction won"
        )
        first_day = conn.execute(
            "select revenue from gold.gold_sales_daily where sale_date = %s", (DAYS[0],)
        ).fetchone()[0]
        assert first_day == expected.daily[DAYS[0]][2], "the first day's total includes the correction"
        sources = dict(
            conn.execute("select source, count(*) from silver.silver_sales group by source").fetchall()
        )
        assert sources["shop"] > 0 and sources["crm"] > 0 and sources["pos"] > 0, "the sources reach silver"
        pos_ids = [r[0] for r in conn.execute("select sale_id from silver.silver_sales where source = 'pos'")]
        received = {e["sale_id"] for day in DAYS for e in expected.pos_received(day)}
        assert sorted(pos_ids) == sorted(received), "each point-of-sale sale once, retries or not"
        quarantined = {
            r[0] for r in conn.execute("select airbyte_raw_id from audit.quarantine where source = 'pos'")
        }
        assert quarantined == positions_of_malformed(kafka_broker)
        assert len(quarantined) == POS_FAULTS.malformed * len(DAYS)
        pos_batches = conn.execute(
            "select landed, accepted, rejected from audit.batches where source = 'pos' order by batch_id"
        ).fetchall()
        assert [b[1] for b in pos_batches] == [
            len([m for m in pos_messages if m.event and m.arrival.date() == day]) for day in DAYS
        ], "every event the broker received in its day, retried ones too (silver keeps one)"
        assert all(b[0] == b[1] + b[2] for b in pos_batches)
        statuses = conn.execute(
            f"select batch_id, landed, accepted, status {CRM_SALES_BATCHES} order by 1"
        ).fetchall()
        assert [(s[0], s[3]) for s in statuses] == [(f"crm.sales.{d:%Y%m%d}T0000", "archived") for d in DAYS]
        assert all(s[1] == s[2] > 0 for s in statuses)
    archived = liftoff_home / "archive" / "raw" / "crm" / "sales" / f"dt={DAYS[-1]}" / "part-0000.jsonl.zst"
    assert archived.is_file()

    before = table_hashes(warehouse)
    for attempt in range(3):
        done = liftoff_run(DAYS[-1], env)
        assert done.returncode == 0, done.stderr
        assert table_hashes(warehouse) == before, f"rerun {attempt + 1} of a day changed a table"

    # a day past the topic's retention comes back from the archive, partitions and offsets kept
    with warehouse.connect() as conn:
        conn.execute("delete from raw_pos.sales where _kafka_timestamp < %s", (DAYS[1],))
        conn.commit()
    restored = subprocess.run(
        [LIFTOFF, "archive", "restore", "--source", "pos", "--stream", "sales", "--day", str(DAYS[0])],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert table_hashes(warehouse) == before, "the archive gave back the landed day as it was"


def test_dirty_day_quarantines_exactly_what_the_api_injected(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path
) -> None:
    day = date(2026, 11, 13)  # at 12% dirt this day has all five kinds, 6.5% contract rejects
    api = api_server_factory(dirty_fraction=0.12)
    env = run_env(warehouse, api.url, liftoff_home)
    done = liftoff_run(day, env)
    assert done.returncode == 0, done.stdout + done.stderr
    injected = httpx.get(f"{api.url}/_dirty", params={"day": day.isoformat()}).json()["dirty"]
    expected = {e["sale_id"] for e in injected if e["kind"] in CONTRACT_DIRT}
    duplicated = {e["sale_id"] for e in injected if e["kind"] == "duplicate"}
    with warehouse.connect() as conn:
        quarantined = [r[0] for r in conn.execute("select row_data->>'sale_id' from audit.quarantine")]
        assert sorted(quarantined) == sorted(expected)
        accepted, rejected = conn.execute(f"select accepted, rejected {CRM_SALES_BATCHES}").fetchone()
        assert rejected == len(expected) and accepted > 0  # landed = accepted + rejected: a CHECK
        assert conn.execute("select count(*) from bronze.bronze_crm_sales").fetchone()[0] == accepted
        silver_ids = [
            r[0] for r in conn.execute("select sale_id from silver.silver_sales where source = 'crm'")
        ]
        assert len(silver_ids) == len(set(silver_ids)) == accepted - len(duplicated - expected)
        assert not set(silver_ids) & expected
        outliers = {r[0] for r in conn.execute("select sale_id from silver.silver_sales where is_outlier")}
        assert outliers == {e["sale_id"] for e in injected if e["kind"] == "outlier"}
        assert_gold_matches(conn, expected_after(api.url, [day]), [day])


def test_day_over_the_reject_threshold_stops_before_transform(
    warehouse: Warehouse, api_server_factory, liftoff_home: Path
) -> None:
    api = api_server_factory(dirty_fraction=0.6)
    env = run_env(warehouse, api.url, liftoff_home)
    done = liftoff_run(date(2026, 11, 13), env)
    assert done.returncode == 1
    assert "threshold is 10.0%" in done.stderr and "top errors:" in done.stderr
    with warehouse.connect() as conn:
        status = conn.execute(f"select status {CRM_SALES_BATCHES}").fetchone()[0]
        assert status == "rejected"
        layers = conn.execute(
            "select count(*) from information_schema.tables"
            " where table_schema in ('bronze', 'silver', 'gold')"
        ).fetchone()[0]
        assert layers == 0, "no transform may run after a rejected batch"


def test_a_failed_dbt_test_stops_the_layers_after_it_and_names_it(
    warehouse: Warehouse, sales_api: str, liftoff_home: Path
) -> None:
    """The CRM's catalogue gains a second product of an existing name (each row valid under
    the contract): bronze's `unique` test on the name fails, the rerun of the day stops
    there, names the test (hence the model), and leaves silver and gold as they were."""
    day = DAY_1
    env = run_env(warehouse, sales_api, liftoff_home)
    done = liftoff_run(day, env)
    assert done.returncode == 0, done.stdout + done.stderr
    before = table_hashes(warehouse)
    with warehouse.connect() as conn:
        conn.execute("create temp table twin as select * from raw_crm.products limit 1")
        conn.execute("update twin set product_id = 'P-TWIN', _airbyte_raw_id = gen_random_uuid()::text")
        conn.execute("insert into raw_crm.products select * from twin")
        conn.commit()

    rerun = liftoff_run(day, env, "--skip-ingest")
    assert rerun.returncode == 1, rerun.stdout
    assert "unique_bronze_crm_products_name" in rerun.stderr, rerun.stderr
    after = table_hashes(warehouse)
    for table in TABLES:
        if table.startswith(("silver.", "gold.")):
            assert after[table] == before[table], f"{table} changed after bronze failed"
    with warehouse.connect() as conn:
        status = conn.execute(
            "select status from audit.batches where source = 'crm' and stream = 'products'"
        ).fetchone()[0]
        assert status == "archived", "the batch itself was valid: the contract checks rows, dbt the whole"


def test_disaster_recovery_from_the_minio_archive(
    warehouse: Warehouse, sales_api: str, liftoff_home: Path, minio_server
) -> None:
    """Archive to MinIO, lose the landed rows, restore the day, rebuild it: identical tables."""
    day = DAY_2
    env = run_env(warehouse, sales_api, liftoff_home, archive_url=minio_server.url("dr-archive"))
    done = liftoff_run(day, env)
    assert done.returncode == 0, done.stdout + done.stderr
    before = table_hashes(warehouse)
    with warehouse.connect() as conn:
        key = conn.execute(f"select archive_key {CRM_SALES_BATCHES}").fetchone()[0]
        conn.execute("truncate raw_crm.sales")
        conn.commit()
    assert key.endswith(".jsonl.zst") and not (liftoff_home / "archive").exists(), "archived to MinIO only"

    restored = subprocess.run(
        [LIFTOFF, "archive", "restore", "--source", "crm", "--stream", "sales", "--day", day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout
    rebuilt = liftoff_run(day, env, "--skip-ingest")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    log = (liftoff_home / "logs" / f"sales_elt-{day.isoformat()}.log").read_text()
    assert re.search(r"Marking success for .*crm\.ingest", log), "the rebuild took landing as restored"
    assert table_hashes(warehouse) == before


def test_server_mode_through_a_stand_in_airbyte(
    warehouse: Warehouse, sales_api: str, liftoff_home: Path
) -> None:
    """LIFTOFF_INGEST_MODE=airbyte: the DAG triggers the Airbyte job; its destination lands the rows."""
    import uuid

    from sales_api.server import BackgroundApi
    from tests.airbyte_api import FakeAirbyte, Script
    from tests.integration.landing import land, land_sales

    day = DAY_1

    def crm_destination_lands_the_day() -> int:
        """What the CRM connection's destination does: every stream of the CRM into raw_crm."""
        rows = api_sales(sales_api, day)
        with warehouse.connect() as conn:
            land_sales(conn, rows)
            for stream in ("sellers", "products"):
                conn.execute(f"drop table if exists raw_crm.{stream}")  # full refresh: replaced
                land(conn, stream, httpx.get(f"{sales_api}/{stream}").json()["data"])
        return len(rows)

    def shop_destination_lands_the_day() -> int:
        orders = api_orders(sales_api, day)
        with warehouse.connect() as conn:
            land(conn, "orders", orders, source="shop")
        return len(orders)

    fake = FakeAirbyte(client_id=f"liftoff-{uuid.uuid4().hex[:8]}")
    fake.scripts["conn-crm-e2e"] = Script(["succeeded"], land=crm_destination_lands_the_day)
    fake.scripts["conn-shop-e2e"] = Script(["running", "succeeded"], land=shop_destination_lands_the_day)
    with BackgroundApi(app=fake.app(), health_path="/v1/health") as airbyte:
        env = {
            **run_env(
                warehouse,
                sales_api,
                liftoff_home,
                ingest_mode="airbyte",
                airbyte_crm_connection_id="conn-crm-e2e",
                airbyte_shop_connection_id="conn-shop-e2e",
            ),
            "AIRFLOW_CONN_AIRBYTE": fake.airflow_connection(airbyte.url),
        }
        done = liftoff_run(day, env)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = sorted((job.connection_id, job.status, job.rows) for job in fake.jobs.values())
    assert jobs == [
        ("conn-crm-e2e", "succeeded", len(api_sales(sales_api, day))),
        ("conn-shop-e2e", "succeeded", len(api_orders(sales_api, day))),
    ]
    with warehouse.connect() as conn:
        assert_gold_matches(conn, expected_after(sales_api, [day]), [day])
        statuses = {r[0]: r[1] for r in conn.execute("select stream, status from audit.batches")}
        assert statuses == {s: "archived" for s in ("sales", "sellers", "products", "orders")}

    # today's preview: hostile text in landing never breaks the view, and counts what the
    # contract would accept, once; the analyst reads it (a view the pipeline owns)
    today = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    good = ("pos-live-1", "Ana@Liftoff.example", today, "54.00", "2", "Extra Seat")
    hostile = [
        good,
        good,  # a retried event
        ("pos-live-2", "ana@liftoff.example", today, "abc", "1", "Extra Seat"),
        ("pos-live-3", "ana@liftoff.example", today, "1e309", "1", "Extra Seat"),
        ("pos-live-4", "ana@liftoff.example", today, "-5.00", "1", "Extra Seat"),
        ("pos-live-5", "ana@liftoff.example", today, "0", "1", "Extra Seat"),
        ("pos-live-6", "ana@liftoff.example", today, "100000.00", "1", "Extra Seat"),
        ("pos-live-7", "ana@liftoff.example", today, "10.00", "99999999999999999999", "Extra Seat"),
        ("pos-live-8", "not an email", today, "10.00", "1", "Extra Seat"),
        ("", "ana@liftoff.example", today, "10.00", "1", "Extra Seat"),
        ("pos-live-9", "ana@liftoff.example", "2001-01-01T00:00:00Z", "10.00", "1", "Extra Seat"),
        ("pos-live-10", "ana@liftoff.example", "garbage", "10.00", "1", "x" * 101),
        (None, None, None, None, None, None),  # a malformed message
    ]
    with warehouse.connect() as conn:
        for offset, row in enumerate(hostile):
            conn.execute(
                "insert into raw_pos.sales (sale_id, seller_email, sold_at, amount, quantity, product,"
                " updated_at, _airbyte_raw_id, _airbyte_extracted_at, _airbyte_meta, _kafka_partition,"
                " _kafka_offset, _kafka_timestamp) values (%s, %s, %s, %s, %s, %s, %s, %s,"
                " now() at time zone 'UTC', '{}', 0, %s, now())",
                (*row, today, f"pos.sales:0:{10_000 + offset}", 10_000 + offset),
            )
        conn.execute("set local role analyst")
        preview = conn.execute(
            "select product, seller_email, sales, units, revenue::text from gold.gold_sales_today"
        ).fetchall()
        conn.rollback()
    assert preview == [("Extra Seat", "ana@liftoff.example", 1, 2, "54.00")]
