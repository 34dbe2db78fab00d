"""The event store's statements, built once per dialect (SQLAlchemy caches their compiled form).

PostgreSQL's feed reads only rows whose writing transaction is older than the oldest
transaction still in flight, and pages by ``(tx_id, position)``; see ``SqlEventStore``.
``tx_id`` stays ``xid8`` in every comparison (never text, never a Python int).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from casemgmt.adapters.sql.eventstore.schema import (
    COLUMNS,
    INSERT_COLUMNS,
    INSERT_FIELDS,
    PER_ROW,
    PER_STATEMENT,
    pg_records,
    pg_recordset,
    pg_values,
)
from casemgmt.adapters.sql.eventstore.tables import events

__all__ = [
    "COLUMNS",
    "MAX_VERSION",
    "PG_FEEDS",
    "SQLITE_FEEDS",
    "current_version",
    "find_ids",
    "head",
    "pg_current_version",
    "pg_head",
    "pg_insert",
    "pg_insert_params",
    "read_case",
    "regulator_of",
    "sqlite_insert",
    "sqlite_insert_params",
]

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
regulator_of = sa.select(events.c.regulator).where(events.c.case_id == _case, events.c.version == 1)
current_version = sa.select(sa.func.coalesce(sa.func.max(events.c.version), 0)).where(
    events.c.case_id == _case
)
find_ids = (
    sa.select(*COLUMNS)
    .where(
        events.c.event_id.in_(sa.bindparam("event_ids", expanding=True)),
        events.c.regulator == sa.bindparam("regulator", type_=sa.Text),
    )
    .order_by(events.c.position)
)

# SQLite: BEGIN IMMEDIATE serialises writers, so positions commit in order. As on
# PostgreSQL, the rows travel as one JSON array and an id already stored stops the whole
# batch (zero rows returned); a taken version fails the statement, which SQLite undoes
# alone, leaving the transaction usable.
_SQLITE_VALUES = ", ".join(
    f":{f}" if f in PER_STATEMENT else f"json_extract(r.value, '$[{PER_ROW.index(f)}]')"
    for f in INSERT_FIELDS
)
sqlite_insert = sa.text(
    f"""
    INSERT INTO events ({INSERT_COLUMNS})
    SELECT {_SQLITE_VALUES}
    FROM json_each(:rows) AS r
    WHERE NOT EXISTS (SELECT 1 FROM events WHERE regulator = :regulator AND event_id IN (
        SELECT json_extract(value, '$[0]') FROM json_each(:rows)))
    ORDER BY r.key
    RETURNING position, version
    """
).columns(sa.column("position", sa.BigInteger), sa.column("version", sa.Integer))
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


# PostgreSQL: one statement appends the whole batch or nothing. ``events`` is partitioned
# by month (migration 0014), so the store's two guarantees live beside it, written in the
# same statement: the case's head row in ``event_streams`` advances from the version and
# hash this append expects (``ON CONFLICT ... DO UPDATE ... WHERE``: a concurrent append to
# the case holds the row until it commits, after which the row has moved and this one
# writes nothing), and each id goes into ``event_ids`` (primary key ``(event_id,
# regulator)``). The events are inserted only if the head advanced, so a lost race writes
# nothing and the caller sees zero rows returned. Ids already committed under the
# regulator stop the head too (``fresh``), so a replay cannot half-insert; each id is one
# index probe (a correlated scalar subquery: as ``IN`` the planner hashed the ids over a
# sequential scan, on every append). An id written at the same moment into another case of
# the regulator fails the statement on ``pk_event_ids`` (``IdempotencyConflict``).
_PG_VALUES = pg_values(("case_id", "regulator"))
# The rows travel as one JSON array (see ``pg_insert_params``): encoding it is a single
# msgspec call, where eleven parameter arrays cost asyncpg a type check per element.
# ``data json`` keeps each payload's exact text, which the hash covers.
pg_insert = sa.text(
    f"""
    WITH r AS (
        SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS {pg_recordset(PER_ROW)}
    ), fresh AS (
        SELECT NOT EXISTS (
            SELECT 1 FROM r
            WHERE (SELECT true FROM event_ids AS i
                   WHERE i.event_id = r.event_id AND i.regulator = :regulator LIMIT 1)
        ) AS ok
    ), head AS (
        INSERT INTO event_streams AS s (case_id, version, hash)
        SELECT :case_id, CAST(:last_version AS int), CAST(:last_hash AS text) FROM fresh
        WHERE fresh.ok AND (CAST(:first_version AS int) = 1
                            OR EXISTS (SELECT 1 FROM event_streams WHERE case_id = :case_id))
        ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version, hash = EXCLUDED.hash
        WHERE s.version = CAST(:first_version AS int) - 1
          AND s.hash = CAST(:prev_hash AS text)
        RETURNING case_id
    ), written AS (
        INSERT INTO events ({INSERT_COLUMNS})
        SELECT {_PG_VALUES} FROM r WHERE EXISTS (SELECT 1 FROM head)
        ORDER BY r.version
        RETURNING position, version, event_id, recorded_at
    ), ids AS (
        INSERT INTO event_ids (event_id, regulator, position, recorded_at)
        SELECT event_id, :regulator, position, recorded_at FROM written
    )
    SELECT position, version FROM written
    """
).columns(sa.column("position", sa.BigInteger), sa.column("version", sa.Integer))

#: PostgreSQL: a case's head is its ``event_streams`` row (one probe, any partition count).
pg_head = sa.text("SELECT version, hash FROM event_streams WHERE case_id = :case_id")
pg_current_version = sa.text(
    "SELECT coalesce(max(version), 0) FROM event_streams WHERE case_id = :case_id"
)

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
    """``pg_insert``'s parameters: the rows as one JSON array, payloads embedded verbatim."""
    records = pg_records(rows, PER_ROW)
    return {
        "case_id": case_id,
        "regulator": regulator,
        "recorded_at": recorded_at,
        "first_version": rows[0]["version"],
        "prev_hash": rows[0]["prev_hash"],
        "last_version": rows[-1]["version"],
        "last_hash": rows[-1]["hash"],
        "rows": _ENCODER.encode(records).decode(),
    }


_ENCODER = msgspec.json.Encoder()


def sqlite_insert_params(
    case_id: str, regulator: str, rows: list[dict[str, Any]], recorded_at: datetime
) -> dict[str, Any]:
    """``sqlite_insert``'s parameters; instants in the text form SQLAlchemy stores on SQLite
    (UTC, no offset), payloads as JSON strings so they come back byte for byte."""
    records = [
        [_sqlite_instant(row[f]) if f == "occurred_at" else row[f] for f in PER_ROW] for row in rows
    ]
    return {
        "case_id": case_id,
        "regulator": regulator,
        "recorded_at": _sqlite_instant(recorded_at),
        "rows": _ENCODER.encode(records).decode(),
    }


def _sqlite_instant(at: datetime) -> str:
    """SQLAlchemy's SQLite text form; ``isoformat`` pads the year to four digits (``strftime``
    does not on every platform, and ``1-01-01`` is not read back)."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
