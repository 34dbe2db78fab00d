"""The SQL unit of work (one write transaction) and a read-only counterpart."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.eventstore.store import AfterAppend, SqlEventStore
from casemgmt.adapters.sql.transactions import transaction
from casemgmt.application.ports import Clock, EventStore

__all__ = ["SqlReader", "SqlUnitOfWork"]


class SqlUnitOfWork:
    """``UnitOfWork``: one write transaction on its own connection.

    A write ``transaction`` (see ``transactions``): on SQLite it starts with ``BEGIN
    IMMEDIATE`` and holds the database's write lock from the start, so units of work run
    one at a time. ``events`` appends in this transaction and runs ``after_append`` hooks
    in it; ``connection`` is the same connection, for inline projections and other
    tables. Leaving the block without ``commit`` rolls everything back; after ``commit``
    the unit of work may go on and commit again.
    """

    events: EventStore  # a SqlEventStore on ``connection``
    connection: AsyncConnection

    def __init__(
        self,
        engine: AsyncEngine,
        codec: EventCodec,
        clock: Clock,
        after_append: Sequence[AfterAppend] = (),
    ) -> None:
        self._engine = engine
        self._codec = codec
        self._clock = clock
        self._after_append = tuple(after_append)

    async def __aenter__(self) -> Self:
        self._open = AsyncExitStack()
        conn = await self._open.enter_async_context(transaction(self._engine, write=True))
        self.connection = conn
        self.events = SqlEventStore(conn, self._codec, self._clock, after_append=self._after_append)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless ``commit`` was called; always release the connection."""
        await self._open.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await self.connection.commit()

    async def rollback(self) -> None:
        await self.connection.rollback()


class _NoClock:
    def now(self) -> datetime:
        raise RuntimeError("SqlReader is read-only: append through a SqlUnitOfWork")


class SqlReader:
    """A read-only transaction for queries outside any unit of work.

    Takes no write lock (SQLite ``BEGIN DEFERRED`` on a WAL snapshot; PostgreSQL
    ``READ ONLY``). ``events`` offers the store's reads; its ``append`` raises
    ``RuntimeError``. Always rolled back on exit (there is nothing to commit).
    """

    events: EventStore  # a SqlEventStore on ``connection``
    connection: AsyncConnection

    def __init__(self, engine: AsyncEngine, codec: EventCodec) -> None:
        self._engine = engine
        self._codec = codec

    async def __aenter__(self) -> Self:
        self._open = AsyncExitStack()
        conn = await self._open.enter_async_context(transaction(self._engine, write=False))
        self.connection = conn
        self.events = SqlEventStore(conn, self._codec, _NoClock())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._open.__aexit__(exc_type, exc, tb)
