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
    "PG_ADVISORY_NAMESPACE",
    "current_version",
    "find_ids",
    "head",
    "pg_feed",
    "pg_insert",
    "pg_insert_params",
    "pg_lock_and_head",
    "read_case",
    "sqlite_feed",
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
#: First key of the two-key advisory lock space taken per case while appending ("case").
PG_ADVISORY_NAMESPACE = 0x63617365

_case = sa.bindparam("case_id", type_=sa.Text)

head = (
    sa.select(*COLUMNS).where(events.c.case_id == _case).order_by(events.c.version.desc()).limit(1)
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
find_ids = sa.select(*COLUMNS).where(
    events.c.event_id.in_(sa.bindparam("event_ids", expanding=True))
)

# SQLite: BEGIN IMMEDIATE serialises writers, so positions commit in order.
sqlite_insert = events.insert().returning(
    events.c.position, events.c.version, sort_by_parameter_order=True
)
_after = sa.bindparam("after", type_=sa.BigInteger)
_limit = sa.bindparam("limit", type_=sa.Integer)
_regulators: sa.BindParameter[str] = sa.bindparam("regulators", expanding=True)


def sqlite_feed(*, regulators: bool) -> sa.Select[tuple[object, ...]]:
    query = sa.select(*COLUMNS).where(events.c.position > _after)
    if regulators:
        query = query.where(events.c.regulator.in_(_regulators))
    return query.order_by(events.c.position).limit(_limit)


# PostgreSQL. The per-case advisory lock serialises appends to one case (held to commit);
# the LEFT JOIN makes the lock run even for a case with no events yet.
pg_lock_and_head = sa.text(
    f"""
    SELECT h.* FROM (SELECT pg_advisory_xact_lock({PG_ADVISORY_NAMESPACE}, hashtext(:case_id)))
        AS lock
    LEFT JOIN LATERAL (
        SELECT version, hash FROM events WHERE case_id = :case_id ORDER BY version DESC LIMIT 1
    ) AS h ON true
    """
).columns(sa.column("version", sa.Integer), sa.column("hash", sa.Text))

# All or nothing: the guards are uncorrelated, so they pass or fail for every row at once.
# They run on this statement's snapshot, which may be newer than the lock-and-head one.
pg_insert = sa.text(
    """
    INSERT INTO events (event_id, case_id, version, type, schema_version, regulator,
        occurred_at, recorded_at, actor, correlation_id, causation_id, data, prev_hash, hash)
    SELECT r.event_id, :case_id, r.version, r.type, r.schema_version, :regulator,
        r.occurred_at, CAST(:recorded_at AS timestamptz), r.actor, r.correlation_id,
        r.causation_id, CAST(r.data AS json), r.prev_hash, r.hash
    FROM unnest(
        CAST(:event_ids AS text[]), CAST(:versions AS int[]), CAST(:types AS text[]),
        CAST(:schema_versions AS int[]), CAST(:occurred_ats AS timestamptz[]),
        CAST(:actors AS text[]), CAST(:correlation_ids AS text[]),
        CAST(:causation_ids AS text[]), CAST(:datas AS text[]),
        CAST(:prev_hashes AS text[]), CAST(:hashes AS text[])
    ) AS r(event_id, version, type, schema_version, occurred_at, actor, correlation_id,
           causation_id, data, prev_hash, hash)
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = :case_id AND e.version > :head)
      AND NOT EXISTS (
        SELECT 1 FROM events e WHERE e.event_id = ANY(CAST(:event_ids AS text[])))
    ORDER BY r.version
    RETURNING position, version
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


def pg_feed(*, after: bool, regulators: bool) -> sa.Select[tuple[object, ...]]:
    query = sa.select(*COLUMNS).where(_visible)
    if after:
        query = query.where(_after_cursor)
    if regulators:
        any_regulator = sa.any_(sa.bindparam("regulators", type_=postgresql.ARRAY(sa.Text)))
        query = query.where(events.c.regulator == any_regulator)
    return query.order_by(_tx_id, events.c.position).limit(_limit)


def pg_insert_params(
    case_id: str, regulator: str, rows: list[dict[str, Any]], head: int, recorded_at: datetime
) -> dict[str, Any]:
    """``pg_insert``'s parameters: one array per column, so any batch is one statement."""

    def column(name: str) -> list[Any]:
        return [row[name] for row in rows]

    return {
        "case_id": case_id,
        "regulator": regulator,
        "recorded_at": recorded_at,
        "head": head,
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
