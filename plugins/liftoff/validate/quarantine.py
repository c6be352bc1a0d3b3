"""Triage for on-call: read the quarantine, and replay a batch's rejects after a contract fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from liftoff.batch import Batch, Interval
from liftoff.config import load_sources
from liftoff.validate.gate import BatchResult, newest_accepted_cursor, validate_rows
from liftoff_contracts import CONTRACTS, contract_version, rows_adapter


class UnknownBatch(LookupError):
    """No audited batch has this id."""


@dataclass(frozen=True)
class ReplayResult:
    batch_id: str
    replayed: int
    moved: int
    still_rejected: int
    contract_version: str
    day: date


def list_quarantine(conn: psycopg.Connection, batch_id: str | None = None, limit: int = 50) -> list[dict]:
    """Quarantined rows, newest batch first: raw id, the fields in error and the first message."""
    query = """
        select q.batch_id, q.airbyte_raw_id, q.contract_version,
               string_agg(distinct e->>'field', ', ') as fields,
               min(e->>'message') as message,
               q.row_data
        from audit.quarantine q, jsonb_array_elements(q.errors) e
        where %(batch)s::text is null or q.batch_id = %(batch)s
        group by q.batch_id, q.airbyte_raw_id, q.contract_version, q.row_data
        order by q.batch_id desc, q.airbyte_raw_id
        limit %(limit)s
    """
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"batch": batch_id, "limit": limit}).fetchall()


def replay_batch(conn: psycopg.Connection, batch_id: str) -> ReplayResult:
    """Revalidate a batch's quarantined rows with today's contract.

    Rows that now pass leave the quarantine, which moves them into the batch (bronze reads
    the landed rows less the quarantined ones); the others get their new errors. The
    batch's counts are updated, so landed still equals accepted plus rejected, and so is its
    newest accepted cursor (what freshness reads). Rerun the day to rebuild the layers.
    """
    with conn.transaction():
        batch = conn.execute(
            "select contract, interval_start, interval_end, source, stream, accepted, rejected"
            " from audit.batches where batch_id = %s for update",
            (batch_id,),
        ).fetchone()
        if batch is None:
            raise UnknownBatch(f"no batch {batch_id!r} in audit.batches")
        contract_name, interval_start, interval_end, source, stream, accepted, rejected = batch
        contract = {model.__name__: model for model in CONTRACTS.values()}[contract_name]
        # a row whose field landing had to null stays: no contract brings the value back
        rows = conn.execute(
            "select airbyte_raw_id, row_data from audit.quarantine where batch_id = %s"
            ' and not errors @> \'[{"type": "nulled_while_landing"}]\'::jsonb'
            " order by airbyte_raw_id",
            (batch_id,),
        ).fetchall()
        errors = validate_rows(
            rows_adapter(contract), [data for _, data in rows], {"not_after": interval_end}
        )
        version = contract_version(contract)
        valid_ids = [raw_id for index, (raw_id, _) in enumerate(rows) if index not in errors]
        conn.execute(
            "delete from audit.quarantine where batch_id = %s and airbyte_raw_id = any(%s)",
            (batch_id, valid_ids),
        )
        for index, row_errors in errors.items():
            conn.execute(
                "update audit.quarantine set errors = %s, contract_version = %s"
                " where batch_id = %s and airbyte_raw_id = %s",
                (Jsonb(row_errors), version, batch_id, rows[index][0]),
            )
        conn.execute(
            "update audit.batches set accepted = accepted + %(moved)s, rejected = rejected - %(moved)s,"
            " contract_version = %(version)s where batch_id = %(batch)s",
            {"moved": len(valid_ids), "version": version, "batch": batch_id},
        )
        configured = valid_ids and stream_batch(source, stream, interval_start, interval_end)
        if configured:  # none moved, or a source since removed: the recorded cursor stays
            moved = BatchResult(
                batch_id, accepted=accepted + len(valid_ids), rejected=rejected - len(valid_ids)
            )
            newest = newest_accepted_cursor(conn, configured, moved)
            conn.execute(
                "update audit.batches set newest_cursor = %s where batch_id = %s", (newest, batch_id)
            )
    return ReplayResult(
        batch_id, len(rows), len(valid_ids), len(errors), version, interval_start.astimezone(UTC).date()
    )


def stream_batch(source: str, stream: str, start: datetime, end: datetime) -> Batch | None:
    """The batch of ``source.stream`` over [start, end) as sources.yaml defines the stream now;
    None if it defines it no more."""
    config = load_sources().get(source)
    batches = Batch.all_of(source, config, Interval(start, end)) if config else []
    return next((b for b in batches if b.stream == stream), None)
