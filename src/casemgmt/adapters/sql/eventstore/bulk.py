"""Appending to many cases in one statement (bulk import on PostgreSQL).

The rows of every case travel as one JSON array and go in with ``ON CONFLICT DO NOTHING``:
a version or event id someone else took is skipped, never overwritten. The statement
returns what it wrote; anything short of every row means a race was lost, and the caller
must roll the whole transaction back (``ConcurrencyConflict``) and decide again. Without
a race it costs one round trip for the whole batch instead of one per case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa

from casemgmt.adapters.sql.eventstore.statements import _INSERT_COLUMNS

__all__ = ["CaseBatch", "pg_insert_many", "pg_insert_many_params"]

#: (case_id, regulator, rows as built by ``rows.new_rows``)
CaseBatch = tuple[str, str, list[dict[str, Any]]]

pg_insert_many = sa.text(
    f"""
    INSERT INTO events ({_INSERT_COLUMNS})
    SELECT r.event_id, r.case_id, r.version, r.type, r.schema_version, r.regulator,
        r.occurred_at, CAST(:recorded_at AS timestamptz), r.actor, r.correlation_id,
        r.causation_id, r.data, r.prev_hash, r.hash
    FROM json_to_recordset(CAST(:rows AS json)) AS r(ord int, event_id text, case_id text,
        version int, type text, schema_version int, regulator text, occurred_at timestamptz,
        actor text, correlation_id text, causation_id text, data json, prev_hash text,
        hash text)
    ORDER BY r.ord
    ON CONFLICT DO NOTHING
    RETURNING case_id, version, position
    """
).columns(
    sa.column("case_id", sa.Text),
    sa.column("version", sa.Integer),
    sa.column("position", sa.BigInteger),
)

_ENCODER = msgspec.json.Encoder()


def pg_insert_many_params(batches: Sequence[CaseBatch], recorded_at: datetime) -> dict[str, Any]:
    records = [
        {
            "event_id": row["event_id"],
            "case_id": case_id,
            "version": row["version"],
            "type": row["type"],
            "schema_version": row["schema_version"],
            "regulator": regulator,
            "occurred_at": row["occurred_at"],
            "actor": row["actor"],
            "correlation_id": row["correlation_id"],
            "causation_id": row["causation_id"],
            "data": msgspec.Raw(row["data"]),
            "prev_hash": row["prev_hash"],
            "hash": row["hash"],
        }
        for case_id, regulator, rows in batches
        for row in rows
    ]
    for ord_, record in enumerate(records):
        record["ord"] = ord_  # positions follow the order the rows were given in
    return {"recorded_at": recorded_at, "rows": _ENCODER.encode(records).decode()}
