"""The unit of work for case commands: store, snapshots, idempotency keys, projections."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Self

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.store import SqlEventStore
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.projection import CaseProjector, decode_state, upsert
from casemgmt.adapters.sql.readmodels.tables import case_summary, idempotency_keys
from casemgmt.adapters.sql.reminders.store import close_deliveries, close_delivery
from casemgmt.adapters.sql.uow import SqlUnitOfWork
from casemgmt.application.ports import (
    CaseSnapshots,
    Clock,
    Closing,
    IdempotencyRecord,
    IdempotencyStore,
    Projector,
)
from casemgmt.application.readmodels import CaseChange
from casemgmt.domain.state.evolve import CaseState, evolve

__all__ = ["CaseSqlUnitOfWork", "ProjectorFactory", "SqlIdempotencyStore", "SqlSnapshots"]

#: Builds an inline projector on the unit of work's connection.
ProjectorFactory = Callable[[AsyncConnection], Projector]

_SNAPSHOT_COLUMNS = (
    case_summary.c.case_id,
    case_summary.c.version,
    case_summary.c.state,
    case_summary.c.state_schema,
    case_summary.c.head_hash,
)
_snapshot = sa.select(*_SNAPSHOT_COLUMNS).where(case_summary.c.case_id == sa.bindparam("case_id"))
_snapshots = sa.select(*_SNAPSHOT_COLUMNS).where(
    case_summary.c.case_id.in_(sa.bindparam("case_ids", expanding=True))
)
_with_events = (
    sa.select(events.c.case_id)
    .where(events.c.case_id.in_(sa.bindparam("case_ids", expanding=True)))
    .distinct()
)
# PostgreSQL: one index probe per case id, however stale the statistics (as ``IN`` on
# tables never analyzed, a bulk import's lookups were sequential scans; see
# ``eventstore.bulk.pg_find_ids``).
_ids = sa.bindparam("case_ids", type_=postgresql.ARRAY(sa.Text))
_pg_snapshots = sa.text(
    """
    SELECT s.case_id, s.version, CAST(s.state AS TEXT) AS state, s.state_schema, s.head_hash
    FROM unnest(CAST(:case_ids AS text[])) AS c(case_id)
    CROSS JOIN LATERAL (
        SELECT * FROM case_summary WHERE case_summary.case_id = c.case_id LIMIT 1
    ) AS s
    """
).bindparams(_ids)
_pg_with_events = sa.text(
    """
    SELECT c.case_id
    FROM unnest(CAST(:case_ids AS text[])) AS c(case_id)
    CROSS JOIN LATERAL (
        SELECT 1 FROM event_streams AS s WHERE s.case_id = c.case_id COLLATE "C" LIMIT 1
    ) AS e
    """
).bindparams(_ids)


class SqlSnapshots:
    """``CaseSnapshots``: the summary row's state, plus any events newer than it."""

    def __init__(self, conn: AsyncConnection, events: SqlEventStore) -> None:
        self._conn = conn
        self._events = events

    async def load(self, case_id: str) -> tuple[int, CaseState] | None:
        """The snapshot if it decodes, else the stream folded from its first event.

        The snapshot is written in the same transaction as the events it reflects, so
        it is never behind a committed event; a concurrent append that commits after this
        read makes the caller's append fail on its expected version, never go unnoticed.
        """
        row = (await self._conn.execute(_snapshot, {"case_id": case_id})).first()
        loaded = self._from_row(row) if row is not None else None
        return loaded if loaded is not None else await self._fold(case_id)

    async def load_many(self, case_ids: Collection[str]) -> dict[str, tuple[int, CaseState]]:
        """``load`` for many cases in one query; cases with no events are left out."""
        if not case_ids:
            return {}
        pg = dialect_of(self._conn) == "postgresql"
        ids = list(dict.fromkeys(case_ids))
        rows = await self._conn.execute(_pg_snapshots if pg else _snapshots, {"case_ids": ids})
        found = {row.case_id: loaded for row in rows.all() if (loaded := self._from_row(row))}
        missing = [c for c in case_ids if c not in found]
        if missing:
            # Only a case whose snapshot is absent or unreadable is folded from its events.
            with_events_query = _pg_with_events if pg else _with_events
            result = await self._conn.execute(with_events_query, {"case_ids": missing})
            with_events = {case_id for (case_id,) in result.all()}
            for case_id in missing:
                folded = await self._fold(case_id) if case_id in with_events else None
                if folded is not None:
                    found[case_id] = folded
                else:  # no events at all: a new case starts at version 0
                    self._events.remember_head(case_id, 0, None)
        return found

    def _from_row(self, row: Any) -> tuple[int, CaseState] | None:
        state = decode_state(row.state, row.state_schema)
        if state is None:
            return None
        self._events.remember_head(row.case_id, row.version, row.head_hash)
        return row.version, state

    async def _fold(self, case_id: str) -> tuple[int, CaseState] | None:
        version, folded = 0, None
        for envelope in await self._events.read_case(case_id):
            folded = evolve(folded, envelope.event)
            version = envelope.version
        return None if folded is None else (version, folded)


_LIST = msgspec.json.Decoder(list[str])


class SqlIdempotencyStore:
    """``IdempotencyStore`` on the ``idempotency_keys`` table."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, key_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        t = idempotency_keys
        query = sa.select(t).where(t.c.key_id == key_id, t.c.idempotency_key == idempotency_key)
        row = (await self._conn.execute(query)).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(**{**row, "event_ids": _LIST.decode(row["event_ids"])})

    async def put(self, record: IdempotencyRecord) -> None:
        row = msgspec.structs.asdict(record)
        row["event_ids"] = msgspec.json.encode(record.event_ids).decode()
        await upsert(self._conn, idempotency_keys, [row], ["key_id", "idempotency_key"])


class CaseSqlUnitOfWork(SqlUnitOfWork):
    """``CaseUnitOfWork`` over ``SqlUnitOfWork``; inline projectors share its transaction."""

    snapshots: CaseSnapshots
    idempotency: IdempotencyStore

    def __init__(
        self,
        engine: AsyncEngine,
        codec: EventCodec,
        clock: Clock,
        projectors: Sequence[ProjectorFactory] = (CaseProjector,),
    ) -> None:
        super().__init__(engine, codec, clock)
        self._projector_factories = tuple(projectors)
        self._projectors: list[Projector] = []

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        assert isinstance(self.events, SqlEventStore)
        self.snapshots = SqlSnapshots(self.connection, self.events)
        self.idempotency = SqlIdempotencyStore(self.connection)
        self._projectors = [make(self.connection) for make in self._projector_factories]
        return self

    async def project(self, changes: Sequence[CaseChange]) -> None:
        for projector in self._projectors:
            await projector.apply(changes)

    async def close_delivery(self, closing: Closing) -> None:
        await close_delivery(self.connection, closing)

    async def close_deliveries(self, closings: Sequence[Closing]) -> None:
        await close_deliveries(self.connection, closings)
