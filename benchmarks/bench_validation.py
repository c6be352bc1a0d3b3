"""Contract-gate throughput on 1,000,000 landed Sale rows out of PostgreSQL.

Subject: the real gate (`validate_batch`: server-side cursor, one pydantic-core call per
chunk of JSON rows, quarantine and audit writes, checksum). Baseline in the same run (the
limit): reading the very JSON text the gate reads (``Batch.iter_json_chunks`` with the
cursor column, the gate's own query, in chunks of the same size), validating nothing. Both
on a table VACUUMed after its fill (no first reader pays for the hint bits), three rounds,
which goes first alternating. Noted: one `Sale(**row)` per row in a Python loop. Each
variant runs in a fresh interpreter, so its peak RSS is its own; ~2% of the rows break the
contract, as a dirty day would.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from benchmarks.harness import Result, alternate, pg_server, scratch_database
from liftoff.batch import Batch, Interval
from liftoff.validate.gate import validate_batch
from liftoff.warehouse.bootstrap import bootstrap
from liftoff.warehouse.location import Warehouse
from liftoff_contracts import Sale

DAY = date(2026, 11, 20)
BATCH = Batch("crm", "sales", "updated_at", Interval.for_day(DAY))
CHUNK = 5000

LANDING_DDL = """
create table raw_crm.sales (
    sale_id varchar, seller_email varchar, product varchar, quantity numeric(38, 9), amount varchar,
    sold_at varchar, updated_at varchar, _airbyte_raw_id varchar, _airbyte_extracted_at timestamp,
    _airbyte_meta json)
"""
# 1 row in 50 has a bad email, 1 in 97 a negative amount: about 2% rejected.
FILL = """
insert into raw_crm.sales
select 'S' || g,
       case when g %% 50 = 0 then 'seller' || g || '-at-liftoff'
            else 'Seller' || (g %% 8) || '@Liftoff.Example' end,
       'Product ' || (g %% 10),
       1 + g %% 5,
       case when g %% 97 = 0 then '-1.00' else ((g %% 1000)::numeric + 0.5)::text end,
       to_char(timestamp '2026-11-20' + (g %% 86000) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       to_char(timestamp '2026-11-20' + (g %% 86000 + 60) * interval '1 second',
               'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
       gen_random_uuid()::text, now(), '{}'::json
from generate_series(1, %s) as g
"""


def fill(target: Warehouse, rows: int) -> None:
    with target.connect() as conn:
        bootstrap(conn, ["crm"])
        conn.execute(LANDING_DDL)
        conn.execute(FILL, (rows,))
        conn.commit()
        conn.execute("analyze raw_crm.sales")
        conn.commit()


def read_json(conn) -> int:
    """The floor: the JSON text (and cursor) the gate reads, by the gate's own query, nothing judged."""
    rows = 0
    with conn.transaction():
        for chunk in BATCH.iter_json_chunks(conn, CHUNK, cursor=True):
            rows += len(chunk)
    return rows


def model_loop(conn) -> int:
    from psycopg.rows import dict_row

    rows = 0
    with conn.transaction(), conn.cursor(name="bench_models", row_factory=dict_row) as cur:
        cur.itersize = CHUNK
        cur.execute("select * from raw_crm.sales")
        while chunk := cur.fetchmany(CHUNK):
            for row in chunk:
                with suppress(ValidationError):
                    Sale(**row)
            rows += len(chunk)
    return rows


def gate(conn) -> int:
    return validate_batch(conn, BATCH, Sale, max_reject_ratio=1.0, chunk_size=CHUNK).landed


VARIANTS = {"read_json": read_json, "model_loop": model_loop, "gate": gate}


def measure(variant: str, url: str) -> dict:
    """Run one variant in a fresh interpreter: seconds, rows, peak RSS."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_validation", variant, url],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def vacuum(target: Warehouse) -> None:
    """Set the filled table's hint bits and visibility map, so no reader pays for them."""
    with target.connect(autocommit=True) as conn:
        conn.execute("vacuum (analyze) raw_crm.sales")


def run(rows: int = 1_000_000, repeat: int = 3) -> Result:
    with (
        tempfile.TemporaryDirectory() as tmp,
        pg_server(Path(tmp)) as server,
        scratch_database(server) as target,
    ):
        fill(target, rows)
        vacuum(target)
        read, gated = [], []

        def sample(variant: str, into: list) -> float:
            into.append(measure(variant, target.url))
            return into[-1]["seconds"]

        alternate(lambda: sample("gate", gated), lambda: sample("read_json", read), repeat)
        loop = measure("model_loop", target.url)
    gate_s = statistics.median(m["seconds"] for m in gated)
    read_s = statistics.median(m["seconds"] for m in read)
    notes = {
        "rows": rows,
        "gate_rows_per_s": round(rows / gate_s),
        "read_json_rows_per_s": round(rows / read_s),
        "model_loop_rows_per_s": round(rows / loop["seconds"]),
        "gate_share_of_read_throughput": round(read_s / gate_s, 2),
        "gate_vs_model_loop_speedup": round(loop["seconds"] / gate_s, 1),
        "rows_read": {"gate": gated[0]["rows"], "read_json": read[0]["rows"]},
        "peak_rss_mb": {
            "gate": max(m["peak_rss_mb"] for m in gated),
            "read_json": max(m["peak_rss_mb"] for m in read),
            "model_loop": loop["peak_rss_mb"],
        },
    }
    return Result(
        "validation_1m",
        "gate",
        "read_json",
        [m["seconds"] for m in gated],
        [m["seconds"] for m in read],
        notes,
    )


def _variant_main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("url")
    args = parser.parse_args()
    with Warehouse.from_url(args.url).connect() as conn:
        started = time.perf_counter()
        count = VARIANTS[args.variant](conn)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"variant": args.variant, "rows": count, "seconds": seconds, "peak_rss_mb": round(peak_mb)}
        )
    )


if __name__ == "__main__":
    _variant_main()
