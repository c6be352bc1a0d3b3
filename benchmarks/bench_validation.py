"""Contract-gate throughput on 1,000,000 landed Sale rows out of PostgreSQL.

Subject: the real gate (`validate_batch`: server-side cursor, one pydantic-core call per
chunk of JSON rows, quarantine and audit writes, checksum). Baselines in the same run:
(b) reading the same rows with no validation at all (the limit), and (a) one
`Sale(**row)` per row in a Python loop. Each variant runs in a fresh interpreter, so its
peak RSS is its own; ~2% of the rows break the contract, as a dirty day would.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from benchmarks.harness import Result, pg_server, scratch_database
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


def read_only(conn) -> int:
    rows = 0
    with conn.transaction(), conn.cursor(name="bench_read") as cur:
        cur.itersize = CHUNK
        cur.execute("select * from raw_crm.sales")
        while chunk := cur.fetchmany(CHUNK):
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


VARIANTS = {"read_only": read_only, "model_loop": model_loop, "gate": gate}


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


def run(rows: int = 1_000_000, repeat: int = 2) -> Result:
    with (
        tempfile.TemporaryDirectory() as tmp,
        pg_server(Path(tmp)) as server,
        scratch_database(server) as target,
    ):
        fill(target, rows)
        read, gated = [], []
        for _ in range(repeat):
            read.append(measure("read_only", target.url))
            gated.append(measure("gate", target.url))
        loop = measure("model_loop", target.url)
    best = {
        "read_only": min(read, key=lambda m: m["seconds"]),
        "gate": min(gated, key=lambda m: m["seconds"]),
    }
    notes = {
        "rows": rows,
        "gate_rows_per_s": round(rows / best["gate"]["seconds"]),
        "read_rows_per_s": round(rows / best["read_only"]["seconds"]),
        "model_loop_rows_per_s": round(rows / loop["seconds"]),
        "gate_share_of_read_throughput": round(best["read_only"]["seconds"] / best["gate"]["seconds"], 2),
        "gate_vs_model_loop_speedup": round(loop["seconds"] / best["gate"]["seconds"], 1),
        "peak_rss_mb": {
            "gate": best["gate"]["peak_rss_mb"],
            "read_only": best["read_only"]["peak_rss_mb"],
            "model_loop": loop["peak_rss_mb"],
        },
    }
    return Result(
        "validation_1m",
        "gate",
        "read_only",
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
