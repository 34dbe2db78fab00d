"""Appending to many cases in one statement (bulk import on PostgreSQL).

Many rows are COPied (asyncpg ``copy_records_to_table``, binary) into a session-local
staging table and go from there into ``events`` in one set-based ``INSERT ... SELECT``;
a few travel as one JSON array instead (``json_to_recordset``). Either way the same
statement writes the ids into ``event_ids`` and advances each case's head in
``event_streams`` (``_WRITE_MANY``): a version or event id someone else took is never
overwritten. The statement returns the rows whose id and head went in; anything short of
every row means a race was lost, and the caller must roll the whole transaction back
(``ConcurrencyConflict``) and decide again. Without a race it costs a few round trips for
the whole batch instead of one per case.
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

#: What follows the rows of an append to many cases (``r``: every row, each with its case,
#: regulator, version, hash and prev_hash): the events go in, each id into ``event_ids``
#: (``ON CONFLICT DO NOTHING``: an id someone else took is skipped), and each case's head
#: in ``event_streams`` advances from the version and hash before its first row (a new
#: case's head is created). Only rows whose id and whose case's head went in are
#: returned; anything short of every row means a race was lost and the caller rolls the
#: whole transaction back. A head another transaction is advancing is waited for.
_WRITE_MANY = """
    written AS (
        INSERT INTO events ({columns})
        SELECT {values} FROM r
        ORDER BY r.ord
        RETURNING case_id, version, position, event_id, regulator, recorded_at
    ), ids AS (
        INSERT INTO event_ids (event_id, regulator, position, recorded_at)
        SELECT event_id, regulator, position, recorded_at FROM written
        ON CONFLICT DO NOTHING
        RETURNING position
    ), firsts AS (
        SELECT DISTINCT ON (case_id) case_id, version, prev_hash FROM r
        ORDER BY case_id, version
    ), lasts AS (
        SELECT DISTINCT ON (case_id) case_id, version, hash FROM r
        ORDER BY case_id, version DESC
    ), created AS (
        INSERT INTO event_streams (case_id, version, hash)
        SELECT l.case_id, l.version, l.hash FROM lasts AS l JOIN firsts AS f USING (case_id)
        WHERE f.version = 1
        ORDER BY l.case_id
        ON CONFLICT DO NOTHING
        RETURNING case_id
    ), advanced AS (
        UPDATE event_streams AS s SET version = l.version, hash = l.hash
        FROM lasts AS l JOIN firsts AS f USING (case_id)
        WHERE s.case_id = l.case_id AND f.version > 1
          AND s.version = f.version - 1 AND s.hash = f.prev_hash
        RETURNING s.case_id
    )
    SELECT w.case_id, w.version, w.position FROM written AS w
    WHERE w.position IN (SELECT position FROM ids)
      AND w.case_id IN (SELECT case_id FROM created UNION ALL SELECT case_id FROM advanced)
"""

#: Every case's rows in one array: each record carries its case and regulator too.
_FIELDS = tuple(f for f in INSERT_FIELDS if f != "recorded_at")
pg_insert_many = sa.text(
    f"""
    WITH r AS (
        SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS {pg_recordset(("ord", *_FIELDS))}
    ), """
    + _WRITE_MANY.format(columns=INSERT_COLUMNS, values=pg_values(()))
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
_STAGED = {"recorded_at": "$1::timestamptz", "data": "r.data::json"}
_COPY_INSERT = f"""
    WITH r AS (
        SELECT ord, {", ".join(f for f in INSERT_FIELDS if f != "recorded_at")}
        FROM pg_temp."{staging_name(events.name)}"
    ), """ + _WRITE_MANY.format(
    columns=INSERT_COLUMNS,
    values=", ".join(_STAGED.get(f, f"r.{f}") for f in INSERT_FIELDS),
)


#: Each case's head row (``event_streams``), one probe per case.
_HEADS = """
    SELECT s.case_id, s.version, s.hash
    FROM unnest($1::text[]) AS c(case_id)
    JOIN event_streams AS s ON s.case_id = c.case_id COLLATE "C"
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


#: ``statements.find_ids`` on PostgreSQL: each id is one probe of ``event_ids`` and then
#: one of the partition its event is in (``position`` and ``recorded_at`` prune to it),
#: whatever the planner believes: as ``IN`` on a table never analyzed (a first import into
#: a new database), each of a batch's thousands of ids counted as 0.5% of the table, and
#: every lookup became a sequential scan (20 s of a 150,000-line import). ``LIMIT 1`` keeps
#: the lateral subqueries from being flattened into joins the planner could hash.
pg_find_ids = sa.text(
    f"""
    SELECT {", ".join("CAST(e.data AS TEXT)" if f == "data" else f"e.{f}" for f in ROW_FIELDS)}
    FROM unnest(CAST(:event_ids AS text[])) AS i(event_id)
    CROSS JOIN LATERAL (
        SELECT k.position, k.recorded_at FROM event_ids AS k
        WHERE k.event_id = i.event_id COLLATE "C" AND k.regulator = :regulator
        LIMIT 1
    ) AS k
    CROSS JOIN LATERAL (
        SELECT * FROM events
        WHERE events.position = k.position AND events.recorded_at = k.recorded_at
        LIMIT 1
    ) AS e
    ORDER BY e.position
    """
).bindparams(sa.bindparam("event_ids", type_=postgresql.ARRAY(sa.Text)))
