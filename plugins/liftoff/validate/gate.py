"""The contract gate: every landed row is accepted or quarantined with its reasons.

Rows stream out of PostgreSQL in chunks; each chunk is validated in one call through
pydantic-core (a TypeAdapter over the chunk), not one model per row in a Python loop.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, TypeAdapter, ValidationError

from liftoff.batch import AIRBYTE_COLUMNS, Batch
from liftoff_contracts import contract_version

_ADAPTERS: dict[type[BaseModel], TypeAdapter] = {}


class BatchRejected(RuntimeError):
    """More rows were rejected than the stream's threshold allows."""


@dataclass
class BatchResult:
    batch_id: str
    landed: int = 0
    accepted: int = 0
    rejected: int = 0
    checksum: str = ""
    errors_by_field: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def reject_ratio(self) -> float:
        return self.rejected / self.landed if self.landed else 0.0

    def summary(self) -> str:
        top = ", ".join(f"{name}={count}" for name, count in self.errors_by_field.most_common(5))
        return (
            f"batch {self.batch_id}: landed={self.landed} accepted={self.accepted} "
            f"rejected={self.rejected} ({self.reject_ratio:.1%})" + (f"; top errors: {top}" if top else "")
        )


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def row_payload(row: dict) -> dict:
    """The data columns of a landed row (Airbyte's bookkeeping columns removed)."""
    return {key: value for key, value in row.items() if key not in AIRBYTE_COLUMNS}


def canonical_json(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=_json_default, separators=(",", ":"))


def content_digest(rows_digest: int, payload: dict) -> int:
    """Fold one row into an order-independent checksum (sum of sha256 mod 2**256)."""
    digest = hashlib.sha256(canonical_json(payload).encode()).digest()
    return (rows_digest + int.from_bytes(digest, "big")) % (1 << 256)


def errors_by_row(exc: ValidationError) -> dict[int, list[dict]]:
    """Group a list-validation error by row index: {index: [{field, type, message}]}."""
    grouped: dict[int, list[dict]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        index, *path = error["loc"]
        grouped.setdefault(int(index), []).append(
            {
                "field": ".".join(str(p) for p in path) or "__row__",
                "type": error["type"],
                "message": error["msg"],
            }
        )
    return grouped


def validate_rows(
    contract: type[BaseModel], rows: list[dict], context: dict | None = None
) -> dict[int, list[dict]]:
    """Validate ``rows`` in one pydantic-core call; return the errors of the rejected ones."""
    adapter = _ADAPTERS.get(contract)
    if adapter is None:
        adapter = _ADAPTERS[contract] = TypeAdapter(list[contract])
    try:
        adapter.validate_python(rows, context=context)
    except ValidationError as exc:
        return errors_by_row(exc)
    return {}


def validate_batch(
    conn: psycopg.Connection,
    batch: Batch,
    contract: type[BaseModel],
    *,
    max_reject_ratio: float,
    run_id: str | None = None,
    chunk_size: int = 5000,
) -> BatchResult:
    """Gate ``batch``: audit row, quarantine, conservation; raise BatchRejected over threshold.

    The batch's previous audit and quarantine rows are replaced in the same transaction,
    so a rerun never duplicates them.
    """
    started = time.perf_counter()
    result = BatchResult(batch.batch_id)
    version = contract_version(contract)
    context = {"not_after": batch.interval.end}
    digest = 0
    with conn.transaction():
        conn.execute("delete from audit.batches where batch_id = %s", (batch.batch_id,))
        conn.execute(
            """insert into audit.batches (batch_id, source, stream, interval_start, interval_end, contract,
                   contract_version, status, run_id) values (%s, %s, %s, %s, %s, %s, %s, 'landed', %s)""",
            (
                batch.batch_id,
                batch.source,
                batch.stream,
                batch.interval.start,
                batch.interval.end,
                contract.__name__,
                version,
                run_id,
            ),
        )
        for rows in batch.iter_chunks(conn, chunk_size):
            payloads = [row_payload(row) for row in rows]
            rejected = validate_rows(contract, payloads, context)
            for payload in payloads:
                digest = content_digest(digest, payload)
            result.landed += len(rows)
            result.rejected += len(rejected)
            if rejected:
                with conn.cursor().copy(
                    "copy audit.quarantine (batch_id, source, stream, airbyte_raw_id, row_data, errors,"
                    " contract, contract_version) from stdin"
                ) as copy:
                    for index, errors in rejected.items():
                        result.errors_by_field.update(error["field"] for error in errors)
                        copy.write_row(
                            (
                                batch.batch_id,
                                batch.source,
                                batch.stream,
                                rows[index]["_airbyte_raw_id"],
                                Jsonb(payloads[index], dumps=canonical_json),
                                Jsonb(errors),
                                contract.__name__,
                                version,
                            )
                        )
        result.accepted = result.landed - result.rejected
        result.checksum = f"sha256-sum:{digest:064x}"
        result.seconds = time.perf_counter() - started
        over = result.reject_ratio > max_reject_ratio
        conn.execute(
            """update audit.batches set landed = %s, accepted = %s, rejected = %s, checksum = %s,
                   status = %s, validated_at = now(), validate_seconds = %s where batch_id = %s""",
            (
                result.landed,
                result.accepted,
                result.rejected,
                result.checksum,
                "rejected" if over else "validated",
                result.seconds,
                batch.batch_id,
            ),
        )
    if over:
        raise BatchRejected(f"{result.summary()}; threshold is {max_reject_ratio:.1%}")
    return result
