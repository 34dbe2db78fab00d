"""A write transaction outside a unit of work (keys, rebuilds, worker bookkeeping)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.sql.engine import connect_for_write, sqlite_writer_lock

__all__ = ["write_transaction"]


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a write transaction: committed on success, rolled back on error.

    On SQLite it queues behind the engine's other writers (``BEGIN IMMEDIATE``).
    """
    lock = sqlite_writer_lock(engine)
    if lock is not None:
        await lock.acquire()
    try:
        conn = await connect_for_write(engine)
        try:
            async with conn.begin():
                yield conn
        finally:
            await conn.close()
    finally:
        if lock is not None:
            lock.release()
