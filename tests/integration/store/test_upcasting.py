"""Schema evolution: an old payload is read as the current struct; the row is never rewritten."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from store_helpers import T0, RenamedV1, RenamedV2, feed_settled

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.uow import SqlReader, SqlUnitOfWork
from casemgmt.application.envelope import NewEvent
from casemgmt.bootstrap import build_codec
from casemgmt.domain.events import Event, RegulatorComplaintLodged


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

    await feed_settled(engine)
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
    assert before.data == (
        '{"type":"test_renamed","occurred_on":"2026-01-05","occurred_at":null,'
        '"backfill":false,"name":"Ada Lovelace"}'
    )
    assert (await verify_chains(engine, codec)).ok


class OldComplaint(
    Event, frozen=True, kw_only=True, tag="ico_complaint_lodged", omit_defaults=True
):
    """The event as stored before the rename, with defaults omitted as they were then."""

    reference: str | None = None


async def test_rows_stored_under_the_old_complaint_tag_read_and_verify(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    async with SqlUnitOfWork(engine, EventCodec([OldComplaint]), clock) as uow:
        old = [
            OldComplaint(occurred_on=date(2026, 4, 20)),
            OldComplaint(occurred_on=date(2026, 4, 21), reference="FS50123456"),
        ]
        await uow.events.append(
            "foi-1",
            "ofcom",
            [
                NewEvent(event_id=f"e-{i}", event=e, occurred_at=T0, actor="a")
                for i, e in enumerate(old)
            ],
            0,
        )
        await uow.commit()
    codec = build_codec()
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT type, CAST(data AS TEXT) AS data FROM events ORDER BY version")
            )
        ).all()

    async with SqlReader(engine, codec) as reader:
        envelopes = await reader.events.read_case("foi-1")
    report = await verify_chains(engine, codec)

    assert stored[0] == (
        "ico_complaint_lodged",
        '{"type":"ico_complaint_lodged","occurred_on":"2026-04-20"}',
    )
    assert [e.event for e in envelopes] == [
        RegulatorComplaintLodged(occurred_on=date(2026, 4, 20)),
        RegulatorComplaintLodged(occurred_on=date(2026, 4, 21), reference="FS50123456"),
    ]
    assert {e.type for e in envelopes} == {"regulator_complaint_lodged"}
    assert report.ok
    assert report.events == 2
