"""The contract gate: every landed row is accepted or quarantined with its reasons.

PostgreSQL renders the batch's rows as JSON and streams them in chunks through a
server-side cursor; each chunk is validated in one pydantic-core call over the JSON
array (parsing and rules in Rust, no Python object per field), against the TypedDict
view of the contract. Memory stays flat whatever the batch's size.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel, TypeAdapter, ValidationError

from liftoff.batch import Batch
from liftoff.errors import Permanent
from liftoff.prefetch import prefetch
from liftoff_contracts import contract_columns, contract_version, error_message, rows_adapter


class BatchRejected(Permanent):
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
    newest_cursor: datetime | None = None  # of the accepted rows (audit.batches.newest_cursor)

    @property
    def reject_ratio(self) -> float:
        return self.rejected / self.landed if self.landed else 0.0

    def summary(self) -> str:
        top = ", ".join(f"{name}={count}" for name, count in self.errors_by_field.most_common(5))
        return (
            f"batch {self.batch_id}: landed={self.landed} accepted={self.accepted} "
            f"rejected={self.rejected} ({self.reject_ratio:.1%})" + (f"; top errors: {top}" if top else "")
        )


def errors_by_row(exc: ValidationError) -> dict[int, list[dict]]:
    """Group a list-validation error by row index: {index: [{field, type, message}]}."""
    grouped: dict[int, list[dict]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        index, *path = error["loc"] or ("__chunk__",)
        if not isinstance(index, int):
            raise exc  # not a per-row error: the chunk itself is broken
        grouped.setdefault(index, []).append(
            {
                "field": ".".join(str(p) for p in path) or "__row__",
                "type": error["type"],
                "message": error_message(error["type"], error["msg"]),
            }
        )
    return grouped


def cursor_error(cursor_field: str) -> dict:
    return {
        "field": cursor_field,
        "type": "cursor_missing",
        "message": "missing or not a date-time: the sync cursor places the row in a day",
    }


def nulled_error(change: dict) -> dict:
    """A landing's ``NULLED`` change as a quarantine error: the field and why it was nulled."""
    reason = change.get("detail") or change.get("reason") or "a value landing could not store"
    return {
        "field": str(change.get("field") or "__row__"),
        "type": "nulled_while_landing",
        "message": f"nulled while landing: {reason}",
    }


def judged_columns(contract: type[BaseModel]) -> set[str]:
    """The landing columns the contract judges (landing names a change it made by column; a
    field aliased to its column is judged by the alias), and a stream's whole ``_value``."""
    return {*contract_columns(contract), "_value"}


def validate_rows(
    adapter: TypeAdapter, rows: list[dict], context: dict | None = None
) -> dict[int, list[dict]]:
    """Validate Python rows in one pydantic-core call; return the errors of the rejected ones."""
    try:
        adapter.validate_python(rows, context=context)
    except ValidationError as exc:
        return errors_by_row(exc)
    return {}


def validate_json_rows(
    adapter: TypeAdapter, rows: list[str], context: dict | None = None
) -> dict[int, list[dict]]:
    """Validate rows given as JSON objects in one pydantic-core call over their JSON array."""
    try:
        adapter.validate_json("[" + ",".join(rows) + "]", context=context)
    except ValidationError as exc:
        return errors_by_row(exc)
    return {}


class ContentChecksum:
    """Order-independent checksum of rows' content: the sum of each row's md5 (first 64 bits).

    Fed the data-column JSON of each row, so Airbyte's ids and the row order do not count
    and any changed value does.
    """

    def __init__(self) -> None:
        self.total = 0

    def add(self, rows: list[str]) -> None:
        self.total += sum(int.from_bytes(hashlib.md5(row.encode()).digest()[:8], "big") for row in rows)

    def hexdigest(self) -> str:
        return f"md5sum64:{self.total % (1 << 64):016x}"


def _quarantine(
    conn: psycopg.Connection,
    batch: Batch,
    contract: type[BaseModel],
    rows: list[tuple[str, str]],
    rejected: dict[int, list[dict]],
) -> None:
    version = contract_version(contract)
    with conn.cursor().copy(
        "copy audit.quarantine (batch_id, source, stream, airbyte_raw_id, row_data, errors, contract,"
        " contract_version) from stdin"
    ) as copy:
        for index, errors in rejected.items():
            raw_id, data = rows[index]
            copy.write_row(
                (
                    batch.batch_id,
                    batch.source,
                    batch.stream,
                    raw_id,
                    Jsonb(json.loads(data)),
                    Jsonb(errors),
                    contract.__name__,
                    version,
                )
            )


def _record_gated(conn: psycopg.Connection, batch: Batch, rows: list[tuple[str, str]]) -> None:
    """The ids of the rows the gate judged (what bronze may take of a changing landing)."""
    with conn.cursor().copy("copy audit.gated (batch_id, airbyte_raw_id) from stdin") as copy:
        for raw_id, _ in rows:
            copy.write_row((batch.batch_id, raw_id))


def newest_accepted_cursor(conn: psycopg.Connection, batch: Batch, result: BatchResult) -> datetime | None:
    """The newest cursor of the batch's accepted rows, once its quarantine is written: the rows
    whose cursor falls in the interval (a row without one is quarantined) less the quarantined
    ones, and only those the gate judged when landing may change under the run. None for a
    stream without a cursor or a batch with no row accepted."""
    if batch.cursor_field is None or result.accepted == 0:
        return None
    conditions = [
        sql.SQL("cursor >= {} and cursor < {}").format(
            sql.Literal(batch.interval.start), sql.Literal(batch.interval.end)
        )
    ]
    if batch.records_gated:  # a row committed after the gate read is not this batch's yet
        conditions.append(
            sql.SQL(
                "exists (select 1 from audit.gated g where g.batch_id = {b}"
                " and g.airbyte_raw_id = landed._airbyte_raw_id)"
            ).format(b=sql.Literal(batch.batch_id))
        )
    if result.rejected:
        conditions.append(
            sql.SQL(
                "not exists (select 1 from audit.quarantine q where q.batch_id = {b}"
                " and q.airbyte_raw_id = landed._airbyte_raw_id)"
            ).format(b=sql.Literal(batch.batch_id))
        )
    # `offset 0` keeps the subquery whole: each row's cursor is read once, not once per use
    query = sql.SQL(
        "select max(cursor) from (select {} as cursor, _airbyte_raw_id from {} offset 0) as landed where {}"
    ).format(batch.cursor(), batch.table, sql.SQL(" and ").join(conditions))
    return conn.execute(query).fetchone()[0]


def validate_batch(
    conn: psycopg.Connection,
    batch: Batch,
    contract: type[BaseModel],
    *,
    max_reject_ratio: float,
    run_id: str | None = None,
    chunk_size: int = 5000,
) -> BatchResult:
    """Check ``batch`` against its contract: write its audit row, whose counts always add up
    (landed = accepted + rejected), and quarantine its rejected rows. Raise BatchRejected when
    the share of rejected rows is over the stream's threshold.

    The audit row also keeps the newest cursor of the accepted rows (what the freshness
    check reads: ``liftoff.validate.freshness``), taken in the scan that judges them.

    The batch's previous audit and quarantine rows are replaced in the same transaction,
    so a rerun never duplicates them.
    """
    started = time.perf_counter()
    result = BatchResult(batch.batch_id)
    adapter = rows_adapter(contract)
    context = {"not_after": batch.interval.end}
    with conn.transaction():
        conn.execute("delete from audit.batches where batch_id = %s", (batch.batch_id,))
        conn.execute(
            """insert into audit.batches (batch_id, source, stream, interval_start, interval_end, contract,
                   contract_version, status, run_id, gated_ids)
               values (%s, %s, %s, %s, %s, %s, %s, 'landed', %s, %s)""",
            (
                batch.batch_id,
                batch.source,
                batch.stream,
                batch.interval.start,
                batch.interval.end,
                contract.__name__,
                contract_version(contract),
                run_id,
                batch.records_gated,
            ),
        )
        checksum = ContentChecksum()
        uncursored = batch.uncursored_ids(conn)  # the cursor is the contract's too: it places the row
        # Changes landing made to a field the contract judges (or to the whole message: a
        # stream's `_value`) reject the row; one to a field it does not (an undeclared field
        # kept in `_record`, a server destination's extra column) stays a note in the row's meta.
        judged = judged_columns(contract)
        nulled = {
            raw_id: found
            for raw_id, changes in batch.nulled_fields(conn).items()
            if (found := [c for c in changes if c.get("field") in judged])
        }
        newest = None  # the accepted rows' newest cursor, read in the scan that judges them
        # PostgreSQL renders the next chunk while this thread validates the current one
        with prefetch(batch.iter_json_chunks(conn, chunk_size, cursor=True)) as chunks:
            for rows in chunks:
                if batch.cursor_field:
                    cursors = [row[2] for row in rows]
                    rows = [row[:2] for row in rows]
                texts = [data for _, data in rows]
                rejected = validate_json_rows(adapter, texts, context)
                for index, (raw_id, _) in enumerate(rows) if uncursored or nulled else ():
                    if raw_id in uncursored:
                        errors = rejected.setdefault(index, [])
                        if not any(error["field"] == batch.cursor_field for error in errors):
                            errors.insert(0, cursor_error(batch.cursor_field))
                    if raw_id in nulled:  # a field the contract judges that landing changed
                        rejected.setdefault(index, [])[:0] = map(nulled_error, nulled[raw_id])
                if batch.cursor_field:
                    found = max((c for i, c in enumerate(cursors) if c and i not in rejected), default=None)
                    if found and (newest is None or found > newest):
                        newest = found
                checksum.add(texts)
                if batch.records_gated:
                    _record_gated(conn, batch, rows)
                result.landed += len(rows)
                result.rejected += len(rejected)
                if rejected:
                    for errors in rejected.values():
                        result.errors_by_field.update({error["field"] for error in errors})
                    _quarantine(conn, batch, contract, rows, rejected)
        result.checksum = checksum.hexdigest()
        result.accepted = result.landed - result.rejected
        result.newest_cursor = newest
        result.seconds = time.perf_counter() - started
        over = result.reject_ratio > max_reject_ratio
        conn.execute(
            """update audit.batches set landed = %s, accepted = %s, rejected = %s, checksum = %s,
                   status = %s, validated_at = now(), validate_seconds = %s, newest_cursor = %s
               where batch_id = %s""",
            (
                result.landed,
                result.accepted,
                result.rejected,
                result.checksum,
                "rejected" if over else "validated",
                result.seconds,
                result.newest_cursor,
                batch.batch_id,
            ),
        )
    if over:
        raise BatchRejected(f"{result.summary()}; threshold is {max_reject_ratio:.1%}")
    return result
