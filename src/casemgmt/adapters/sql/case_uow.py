"""The unit of work for case commands: store, snapshots, idempotency keys, projections."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Self

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.projection import CaseProjector, decode_state, upsert
from casemgmt.adapters.sql.readmodel_tables import case_summary, idempotency_keys
from casemgmt.adapters.sql.uow import SqlUnitOfWork
from casemgmt.application.ports import (
    CaseSnapshots,
    Clock,
    EventStore,
    IdempotencyRecord,
    IdempotencyStore,
)
from casemgmt.application.readmodels import CaseChange, Projector
from casemgmt.domain.state import CaseState, evolve

__all__ = ["CaseSqlUnitOfWork", "ProjectorFactory", "SqlIdempotencyStore", "SqlSnapshots"]

#: Builds an inline projector on the unit of work's connection.
ProjectorFactory = Callable[[AsyncConnection], Projector]

_snapshot = sa.select(
    case_summary.c.version, case_summary.c.state, case_summary.c.state_schema
).where(case_summary.c.case_id == sa.bindparam("case_id"))


class SqlSnapshots:
    """``CaseSnapshots``: the summary row's state, plus any events newer than it."""

    def __init__(self, conn: AsyncConnection, events: EventStore) -> None:
        self._conn = conn
        self._events = events

    async def load(self, case_id: str) -> tuple[int, CaseState] | None:
        """The snapshot if it decodes, else the stream folded from its first event.

        The snapshot is written in the same transaction as the events it reflects, so
        it is never behind a committed event; a concurrent append that commits after this
        read makes the caller's append fail on its expected version, never go unnoticed.
        """
        row = (await self._conn.execute(_snapshot, {"case_id": case_id})).first()
        if row is not None:
            state = decode_state(row.state, row.state_schema)
            if state is not None:
                return row.version, state
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
        self.snapshots = SqlSnapshots(self.connection, self.events)
        self.idempotency = SqlIdempotencyStore(self.connection)
        self._projectors = [make(self.connection) for make in self._projector_factories]
        return self

    async def project(self, changes: Sequence[CaseChange]) -> None:
        for projector in self._projectors:
            await projector.apply(changes)
