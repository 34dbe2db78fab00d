"""The event store's statements, built once per dialect (SQLAlchemy caches their compiled form).

PostgreSQL's feed reads only rows whose writing transaction is older than the oldest
transaction still in flight, and pages by ``(tx_id, position)``; see ``SqlEventStore``.
``tx_id`` stays ``xid8`` in every comparison (never text, never a Python int).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from casemgmt.adapters.sql.tables import events

__all__ = [
    "COLUMNS",
    "MAX_VERSION",
    "PG_FEEDS",
    "SQLITE_FEEDS",
    "current_version",
    "find_ids",
    "head",
    "pg_insert",
    "pg_insert_params",
    "read_case",
    "sqlite_insert",
]

#: Every envelope column, in the order ``SqlEventStore`` unpacks rows.
COLUMNS = (
    events.c.position,
    events.c.event_id,
    events.c.case_id,
    events.c.version,
    events.c.type,
    events.c.schema_version,
    events.c.regulator,
    events.c.occurred_at,
    events.c.recorded_at,
    events.c.actor,
    events.c.correlation_id,
    events.c.causation_id,
    events.c.data,
    events.c.prev_hash,
    events.c.hash,
)
MAX_VERSION = 2**31 - 1

_case = sa.bindparam("case_id", type_=sa.Text)

head = (
    sa.select(events.c.version, events.c.hash)
    .where(events.c.case_id == _case)
    .order_by(events.c.version.desc())
    .limit(1)
)
read_case = (
    sa.select(*COLUMNS)
    .where(
        events.c.case_id == _case,
        events.c.version >= sa.bindparam("from_version", type_=sa.Integer),
        events.c.version <= sa.bindparam("to_version", type_=sa.Integer),
    )
    .order_by(events.c.version)
)
current_version = sa.select(sa.func.coalesce(sa.func.max(events.c.version), 0)).where(
    events.c.case_id == _case
)
find_ids = (
    sa.select(*COLUMNS)
    .where(events.c.event_id.in_(sa.bindparam("event_ids", expanding=True)))
    .order_by(events.c.position)
)

# SQLite: BEGIN IMMEDIATE serialises writers, so positions commit in order.
sqlite_insert = events.insert().returning(
    events.c.position, events.c.version, sort_by_parameter_order=True
)
_after = sa.bindparam("after", type_=sa.BigInteger)
_limit = sa.bindparam("limit", type_=sa.Integer)
_regulators: sa.BindParameter[str] = sa.bindparam("regulators", expanding=True)


def _sqlite_feed(*, regulators: bool) -> sa.Select[tuple[object, ...]]:
    query = sa.select(*COLUMNS).where(events.c.position > _after)
    if regulators:
        query = query.where(events.c.regulator.in_(_regulators))
    return query.order_by(events.c.position).limit(_limit)


#: The feed by (has a cursor, filters by regulator).
SQLITE_FEEDS = {
    (after, regs): _sqlite_feed(regulators=regs)
    for after in (False, True)
    for regs in (False, True)
}


# PostgreSQL: one statement appends the whole batch or nothing, without locks. The first
# row (version head+1) goes in with ON CONFLICT DO NOTHING: if a concurrent append to the
# case is in flight, PostgreSQL waits for it on the unique (case_id, version) index and then
# skips the row should it have committed. The other rows are inserted only if the first
# was, so a lost race writes nothing and the caller sees zero rows returned. Ids already
# committed anywhere stop the first row too (``fresh``), so a replay cannot half-insert.
_PG_COLUMNS = """event_id, case_id, version, type, schema_version, regulator, occurred_at,
    recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash"""
_PG_VALUES = """r.event_id, :case_id, r.version, r.type, r.schema_version, :regulator,
    r.occurred_at, CAST(:recorded_at AS timestamptz), r.actor, r.correlation_id,
    r.causation_id, CAST(r.data AS json), r.prev_hash, r.hash"""
pg_insert = sa.text(
    f"""
    WITH r AS (
        SELECT * FROM unnest(
            CAST(:event_ids AS text[]), CAST(:versions AS int[]), CAST(:types AS text[]),
            CAST(:schema_versions AS int[]), CAST(:occurred_ats AS timestamptz[]),
            CAST(:actors AS text[]), CAST(:correlation_ids AS text[]),
            CAST(:causation_ids AS text[]), CAST(:datas AS text[]),
            CAST(:prev_hashes AS text[]), CAST(:hashes AS text[])
        ) WITH ORDINALITY AS r(event_id, version, type, schema_version, occurred_at, actor,
            correlation_id, causation_id, data, prev_hash, hash, ord)
    ), fresh AS (
        SELECT NOT EXISTS (
            SELECT 1 FROM events WHERE event_id = ANY(CAST(:event_ids AS text[]))) AS ok
    ), first AS (
        INSERT INTO events ({_PG_COLUMNS})
        SELECT {_PG_VALUES} FROM r, fresh WHERE r.ord = 1 AND fresh.ok
        ON CONFLICT DO NOTHING
        RETURNING position, version
    ), rest AS (
        INSERT INTO events ({_PG_COLUMNS})
        SELECT {_PG_VALUES} FROM r WHERE r.ord > 1 AND EXISTS (SELECT 1 FROM first)
        ORDER BY r.ord
        RETURNING position, version
    )
    SELECT position, version FROM first UNION ALL SELECT position, version FROM rest
    """
).columns(sa.column("position", sa.BigInteger), sa.column("version", sa.Integer))

_tx_id: sa.ColumnElement[int] = sa.literal_column("events.tx_id")
_visible = sa.text("events.tx_id < pg_snapshot_xmin(pg_current_snapshot())")
# The cursor is the row at the given position (or the last one before it, should the
# position be a gap): continue strictly after its (tx_id, position).
_after_cursor = sa.text(
    """(events.tx_id, events.position) > (
        COALESCE(
            (SELECT c.tx_id FROM events AS c WHERE c.position <= :after
             ORDER BY c.position DESC LIMIT 1),
            '0'::xid8),
        :after)"""
).bindparams(_after)


def _pg_feed(*, after: bool, regulators: bool) -> sa.Select[tuple[object, ...]]:
    query = sa.select(*COLUMNS).where(_visible)
    if after:
        query = query.where(_after_cursor)
    if regulators:
        any_regulator = sa.any_(sa.bindparam("regulators", type_=postgresql.ARRAY(sa.Text)))
        query = query.where(events.c.regulator == any_regulator)
    return query.order_by(_tx_id, events.c.position).limit(_limit)


#: The feed by (has a cursor, filters by regulator).
PG_FEEDS = {
    (after, regs): _pg_feed(after=after, regulators=regs)
    for after in (False, True)
    for regs in (False, True)
}


def pg_insert_params(
    case_id: str, regulator: str, rows: list[dict[str, Any]], recorded_at: datetime
) -> dict[str, Any]:
    """``pg_insert``'s parameters: one array per column, so any batch is one statement."""

    def column(name: str) -> list[Any]:
        return [row[name] for row in rows]

    return {
        "case_id": case_id,
        "regulator": regulator,
        "recorded_at": recorded_at,
        "event_ids": column("event_id"),
        "versions": column("version"),
        "types": column("type"),
        "schema_versions": column("schema_version"),
        "occurred_ats": column("occurred_at"),
        "actors": column("actor"),
        "correlation_ids": column("correlation_id"),
        "causation_ids": column("causation_id"),
        "datas": column("data"),
        "prev_hashes": column("prev_hash"),
        "hashes": column("hash"),
    }
