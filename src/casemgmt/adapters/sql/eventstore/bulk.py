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

from casemgmt.adapters.sql.eventstore.schema import (
    INSERT_COLUMNS,
    INSERT_FIELDS,
    pg_records,
    pg_recordset,
    pg_values,
)

__all__ = ["CaseBatch", "pg_insert_many", "pg_insert_many_params"]

#: (case_id, regulator, rows as built by ``rows.new_rows``)
CaseBatch = tuple[str, str, list[dict[str, Any]]]

#: Every case's rows in one array: each record carries its case and regulator too.
_FIELDS = tuple(f for f in INSERT_FIELDS if f != "recorded_at")
pg_insert_many = sa.text(
    f"""
    INSERT INTO events ({INSERT_COLUMNS})
    SELECT {pg_values(())}
    FROM json_to_recordset(CAST(:rows AS json)) AS {pg_recordset(("ord", *_FIELDS))}
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
        {**record, "case_id": case_id, "regulator": regulator}
        for case_id, regulator, rows in batches
        for record in pg_records(rows, _FIELDS)
    ]
    for ord_, record in enumerate(records):
        record["ord"] = ord_  # positions follow the order the rows were given in
    return {"recorded_at": recorded_at, "rows": _ENCODER.encode(records).decode()}
