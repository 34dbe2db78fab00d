"""Schema evolution: an old payload is read as the current struct; the row is never rewritten."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from store_helpers import T0, RenamedV1, RenamedV2

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.uow import SqlReader, SqlUnitOfWork
from casemgmt.application.envelope import NewEvent


async def test_a_v1_payload_reads_as_v2_through_the_upcaster(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock
) -> None:
    old_code = EventCodec([RenamedV1])
    async with SqlUnitOfWork(engine, old_code, clock) as uow:
        event = RenamedV1(occurred_on=date(2026, 1, 5), name="Ada Lovelace")
        new = NewEvent(event_id="e-1", event=event, occurred_at=T0, actor="alice")
        await uow.events.append("case-1", "ofcom", [new], 0)
        await uow.commit()
    async with engine.connect() as conn:
        before = (
            await conn.execute(
                text("SELECT schema_version, CAST(data AS TEXT) AS data FROM events")
            )
        ).one()

    async with SqlReader(engine, codec) as reader:
        (envelope,) = await reader.events.read_case("case-1")
        (from_feed,) = await reader.events.read_all(0, 10)

    assert envelope.event == RenamedV2(occurred_on=date(2026, 1, 5), first="Ada", last="Lovelace")
    assert from_feed.event == envelope.event
    assert envelope.schema_version == 1
    async with engine.connect() as conn:
        after = (
            await conn.execute(
                text("SELECT schema_version, CAST(data AS TEXT) AS data FROM events")
            )
        ).one()
    assert after == before
    assert before.schema_version == 1
    assert before.data == '{"type":"test_renamed","occurred_on":"2026-01-05","name":"Ada Lovelace"}'
    assert (await verify_chains(engine, codec)).ok
