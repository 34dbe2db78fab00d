"""Appending to many cases in one statement (bulk import on PostgreSQL).

Many rows are COPied (asyncpg ``copy_records_to_table``, binary) into a session-local
staging table and go from there into ``events`` in one set-based ``INSERT ... SELECT``;
a few travel as one JSON array instead (``json_to_recordset``). Either way they go in with
``ON CONFLICT DO NOTHING``: a version or event id someone else took is skipped, never
overwritten. The statement returns what it wrote; anything short of every row means a race
was lost, and the caller must roll the whole transaction back (``ConcurrencyConflict``)
and decide again. Without a race it costs a few round trips for the whole batch instead
of one per case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from casemgmt.adapters.sql.copying import COPY_MIN_ROWS, driver, stage, staging_name
from casemgmt.adapters.sql.eventstore.schema import (
    INSERT_COLUMNS,
    INSERT_FIELDS,
    ROW_FIELDS,
    pg_records,
    pg_recordset,
    pg_values,
)
from casemgmt.adapters.sql.eventstore.tables import events

__all__ = [
    "CaseBatch",
    "insert_many",
    "pg_find_ids",
    "pg_insert_many",
    "pg_insert_many_params",
    "read_heads",
]

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


async def insert_many(
    conn: AsyncConnection, batches: Sequence[CaseBatch], recorded_at: datetime
) -> dict[tuple[str, int], int]:
    """Insert every row of ``batches`` in their order; the position of each row written,
    by (case, version). Rows that collided with stored ones are absent (nothing else of
    them is written)."""
    if sum(len(rows) for _, _, rows in batches) < COPY_MIN_ROWS:
        result = await conn.execute(pg_insert_many, pg_insert_many_params(batches, recorded_at))
        return {(c, int(v)): int(p) for c, v, p in result.all()}
    values = itemgetter(*_COPIED)
    records = [
        (n, *values(row)) for n, row in enumerate(row for _, _, rows in batches for row in rows)
    ]
    await stage(conn, events, ("ord", *_COPIED), records, extra=(("ord", "int"),))
    rows = await (await driver(conn)).fetch(_COPY_INSERT, recorded_at)
    return {(r[0], r[1]): r[2] for r in rows}


#: Staged per row (``recorded_at`` is one for the whole append, a parameter).
_COPIED = tuple(f for f in INSERT_FIELDS if f != "recorded_at")
_STAGED = {"recorded_at": "$1::timestamptz", "data": "data::json"}
_COPY_INSERT = f"""
    INSERT INTO events ({INSERT_COLUMNS})
    SELECT {", ".join(_STAGED.get(f, f) for f in INSERT_FIELDS)}
    FROM pg_temp."{staging_name(events.name)}"
    ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING case_id, version, position
"""


_HEADS = """
    SELECT c.case_id, h.version, h.hash
    FROM unnest($1::text[]) AS c(case_id)
    CROSS JOIN LATERAL (
        SELECT e.version, e.hash FROM events e
        WHERE e.case_id = c.case_id COLLATE "C"
        ORDER BY e.version DESC LIMIT 1
    ) AS h
"""


async def read_heads(
    conn: AsyncConnection, case_ids: Sequence[str]
) -> dict[str, tuple[int, str | None]]:
    """(version, hash) of each case's last event, (0, None) for a case with none: one
    index lookup per case, in one statement."""
    rows = await (await driver(conn)).fetch(_HEADS, list(case_ids))
    heads: dict[str, tuple[int, str | None]] = dict.fromkeys(case_ids, (0, None))
    heads.update({r[0]: (int(r[1]), r[2]) for r in rows})
    return heads


#: ``statements.find_ids`` on PostgreSQL, one index probe per id whatever the planner
#: believes: as ``IN`` on a table never analyzed (a first import into a new database),
#: each of a batch's thousands of ids counted as 0.5% of the table, and every lookup
#: became a sequential scan of every event (20 s of a 150,000-line import). ``LIMIT 1``
#: keeps the lateral subquery from being flattened into a join the planner could hash.
pg_find_ids = sa.text(
    f"""
    SELECT {", ".join("CAST(e.data AS TEXT)" if f == "data" else f"e.{f}" for f in ROW_FIELDS)}
    FROM unnest(CAST(:event_ids AS text[])) AS i(event_id)
    CROSS JOIN LATERAL (
        SELECT * FROM events
        WHERE events.event_id = i.event_id COLLATE "C" AND events.regulator = :regulator
        LIMIT 1
    ) AS e
    ORDER BY e.position
    """
).bindparams(sa.bindparam("event_ids", type_=postgresql.ARRAY(sa.Text)))
