"""PostgreSQL: ``events`` is partitioned by month, and the store's guarantees (one event per
version, ids unique per regulator) hold across partitions, under races, and are checked by
``verify`` through the tables that carry them (``event_streams``, ``event_ids``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from store_helpers import note, notes

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.uow import SqlUnitOfWork
from casemgmt.application.envelope import AppendResult, NewEvent
from casemgmt.application.errors import ConcurrencyConflict, IdempotencyConflict

UowFactory = Callable[[], SqlUnitOfWork]


@pytest.fixture(autouse=True)
def _postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("partitioning is PostgreSQL's; SQLite keeps one events table")


async def _append(
    engine: AsyncEngine,
    codec: EventCodec,
    at: datetime,
    case_id: str,
    events: list[NewEvent],
    expected: int | None,
    regulator: str = "ofcom",
) -> AppendResult:
    async with SqlUnitOfWork(engine, codec, FixedClock(at)) as uow:
        result = await uow.events.append(case_id, regulator, events, expected)
        await uow.commit()
    return result


async def _partitions_of(engine: AsyncEngine, case_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT tableoid::regclass::text FROM events WHERE case_id = :c ORDER BY version"
            ),
            {"c": case_id},
        )
        return [r[0] for r in rows]


async def test_a_case_spanning_two_partitions_keeps_every_guarantee(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock
) -> None:
    later = datetime.now(UTC) + timedelta(days=40)  # a month partition made ahead
    first = await _append(engine, codec, clock.now(), "case-1", notes(2), 0)
    third = await _append(engine, codec, later, "case-1", [note("later", event_id="e-3")], 2)

    partitions = await _partitions_of(engine, "case-1")
    assert partitions[0] == partitions[1] == "events_history"
    assert partitions[2].startswith("events_y")
    assert partitions[2] == (f"events_y{later.year:04d}m{later.month:02d}")
    async with SqlUnitOfWork(engine, codec, FixedClock(later)) as uow:
        stored = await uow.events.read_case("case-1")
        assert [e.version for e in stored] == [1, 2, 3]
        assert stored[2].prev_hash == first.envelopes[-1].hash
        assert await uow.events.current_version("case-1") == 3
        # Each id is found in its own partition, by id.
        found = await uow.events.find("ofcom", ["e-3", first.envelopes[0].event_id])
        assert [e.version for e in found] == [1, 3]
    with pytest.raises(ConcurrencyConflict) as stale:
        await _append(engine, codec, later, "case-1", notes(1), 2)
    assert stale.value.current == 3
    replay = await _append(engine, codec, later, "case-1", [note("later", event_id="e-3")], 2)
    assert replay.replayed
    assert replay.envelopes == third.envelopes
    with pytest.raises(IdempotencyConflict):  # an id of the history, reused elsewhere
        await _append(
            engine, codec, later, "case-2", [note(event_id=first.envelopes[0].event_id)], 0
        )
    async with engine.connect() as conn:
        head = (await conn.execute(sa.text("SELECT version, hash FROM event_streams"))).all()
    assert [tuple(h) for h in head] == [(3, third.envelopes[0].hash)]
    report = await verify_chains(engine, codec)
    assert report.ok, report.findings or report.first_break


async def test_the_same_new_id_raced_into_two_cases_is_stored_once(
    engine: AsyncEngine, codec: EventCodec, clock: FixedClock
) -> None:
    """Nothing on ``events`` is unique any more: ``event_ids`` must decide this race."""
    for n in range(15):
        outcomes = await asyncio.gather(
            *(
                _append(
                    engine, codec, clock.now(), f"case-{n}-{side}", [note(event_id=f"id-{n}")], 0
                )
                for side in ("a", "b", "c")
            ),
            return_exceptions=True,
        )
        written = [o for o in outcomes if isinstance(o, AppendResult)]
        refused = [o for o in outcomes if isinstance(o, IdempotencyConflict)]
        assert (len(written), len(refused)) == (1, 2), outcomes
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                sa.text("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_ids)")
            )
        ).one()
    assert tuple(counts) == (15, 15)


async def test_verify_names_a_head_or_an_id_row_that_disagrees_with_the_log(
    new_uow: UowFactory, engine: AsyncEngine, codec: EventCodec
) -> None:
    async with new_uow() as uow:
        await uow.events.append("case-1", "ofcom", notes(3), 0)
        await uow.events.append("case-2", "ico", notes(1), 0)
        await uow.commit()
    assert (await verify_chains(engine, codec)).ok

    async with engine.begin() as conn:  # the owner, behind the store's back
        await conn.execute(sa.text("UPDATE event_streams SET version = 2 WHERE case_id = 'case-1'"))
        await conn.execute(
            sa.text("INSERT INTO event_ids VALUES ('ghost', 'ofcom', 999999, '2026-01-01T00:00Z')")
        )
    report = await verify_chains(engine, codec)

    assert not report.ok
    assert [b.case_id for b in report.breaks] == ["case-1"]
    assert "event_streams has version 2" in report.breaks[0].problem
    assert "1 event_ids rows point at no event" in report.findings
