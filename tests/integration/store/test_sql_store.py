"""What only the SQL store has, on SQLite and PostgreSQL: the database itself refuses to
change stored events, and ``after_append`` hooks run inside the append's transaction.
The store's contract through the ports is ``test_store_contract.py``."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from store_helpers import notes

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.uow import SqlUnitOfWork


async def count_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)


async def test_the_database_refuses_update_and_delete(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock, backend: str
) -> None:
    async with SqlUnitOfWork(engine, codec, clock) as uow:
        await uow.events.append("case-1", "ofcom", notes(1), 0)
        await uow.commit()
    statements = ["UPDATE events SET actor = 'mallory'", "DELETE FROM events"]
    if backend == "postgres":
        statements.append("TRUNCATE events")

    for statement in statements:
        async with engine.connect() as conn:
            with pytest.raises(Exception, match="append-only"):
                await conn.execute(text(statement))
            await conn.rollback()

    assert await count_rows(engine) == 1


async def test_after_append_hooks_run_in_the_transaction(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock
) -> None:
    seen: list[tuple[str, int]] = []

    async def record(conn: object, envelopes: list[object]) -> None:
        # Inside the transaction: the rows are visible to its own connection.
        assert await conn.scalar(text("SELECT count(*) FROM events")) == len(envelopes)
        seen.extend((e.case_id, e.version) for e in envelopes)

    async with SqlUnitOfWork(engine, codec, clock, after_append=[record]) as uow:
        batch = notes(2)
        await uow.events.append("case-1", "ofcom", batch, 0)
        await uow.events.append("case-1", "ofcom", batch, 0)  # a replay: no hook
        await uow.commit()

    assert seen == [("case-1", 1), ("case-1", 2)]


async def test_a_failing_hook_rolls_the_append_back(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock
) -> None:
    async def explode(conn: object, envelopes: object) -> None:
        raise RuntimeError("projection failed")

    async def command() -> None:
        async with SqlUnitOfWork(engine, codec, clock, after_append=[explode]) as uow:
            await uow.events.append("case-1", "ofcom", notes(1), 0)
            await uow.commit()

    with pytest.raises(RuntimeError, match="projection failed"):
        await command()

    assert await count_rows(engine) == 0
