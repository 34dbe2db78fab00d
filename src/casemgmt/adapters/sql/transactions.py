"""The one way to open a transaction: lock (SQLite writers), connect, begin, then always
roll back unless committed, close, unlock. Units of work, readers and bookkeeping share it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.sql.engine import (
    autocommit_reads,
    connect_for_write,
    dialect_of,
    sqlite_writer_lock,
)

__all__ = ["single_read", "transaction", "write_transaction"]


@asynccontextmanager
async def transaction(engine: AsyncEngine, *, write: bool) -> AsyncIterator[AsyncConnection]:
    """A connection in an open transaction; whatever is not committed is rolled back on exit.

    ``write``: SQLite's ``BEGIN IMMEDIATE``, queued in-process behind the engine's other
    writers (``sqlite_writer_lock``) and across processes on the busy timeout. Otherwise a
    read: no write lock (SQLite ``BEGIN DEFERRED`` on a WAL snapshot; PostgreSQL
    ``READ ONLY``). The caller may commit, and go on to commit again.
    """
    lock = sqlite_writer_lock(engine) if write else None
    if lock is not None:
        await lock.acquire()
    try:
        conn = await (connect_for_write(engine) if write else engine.connect())
        try:
            if not write and dialect_of(conn) == "postgresql":
                await conn.execution_options(postgresql_readonly=True)
            await conn.begin()
            yield conn
        finally:
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()
    finally:
        if lock is not None:
            lock.release()


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write ``transaction`` outside a unit of work (keys, rebuilds, worker bookkeeping):
    committed when the block succeeds, rolled back when it raises."""
    async with transaction(engine, write=True) as conn:
        yield conn
        await conn.commit()


@asynccontextmanager
async def single_read(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for ONE read statement (a statement is its own snapshot). On
    PostgreSQL it runs in autocommit (``autocommit_reads``; not behind PgBouncer): no
    ``BEGIN`` and ``ROLLBACK`` round trips around it. Otherwise as ``connect()``."""
    async with engine.connect() as conn:
        if autocommit_reads(engine):
            await conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn
