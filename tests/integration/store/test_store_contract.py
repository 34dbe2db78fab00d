"""The ``EventStore`` / ``UnitOfWork`` contract, written against the ports and run on every
backend: in memory, SQLite and (when configured) PostgreSQL — one suite, a fixture per
backend (the pattern of eventsourcing's ``tests/persistence.py``). What only the SQL
store has (database triggers, ``after_append`` hooks) is in ``test_sql_store.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from store_helpers import T0, ContactRecorded, NoteAdded, feed_settled, note, notes
from tests.conftest import BACKENDS

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.memory import MemoryDatabase, MemoryReader, MemoryUnitOfWork
from casemgmt.adapters.sql.uow import SqlReader, SqlUnitOfWork
from casemgmt.application.envelope import AppendResult, NewEvent
from casemgmt.application.errors import ConcurrencyConflict, IdempotencyConflict
from casemgmt.application.ports import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


@dataclass(frozen=True)
class Backend:
    """A store under test, reached only through the ports."""

    new_uow: UowFactory
    new_reader: Callable[[], AbstractAsyncContextManager[Any]]
    settle: Callable[[], Any]

    async def count(self) -> int:
        """How many events are stored (read through the global feed)."""
        await self.settle()
        async with self.new_uow() as uow:
            return len(await uow.events.read_all(0, 10_000))


@pytest.fixture(params=["memory", *BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(
    backend: str, request: pytest.FixtureRequest, codec: EventCodec, clock: FixedClock
) -> Iterator[Backend]:
    """The backend's store (sync: a SQL database is created outside the test's loop)."""
    if backend == "memory":
        db = MemoryDatabase(codec, clock)

        async def nothing_to_wait_for() -> None:
            return None

        yield Backend(lambda: MemoryUnitOfWork(db), lambda: MemoryReader(db), nothing_to_wait_for)
        return
    engine = request.getfixturevalue("engine")
    yield Backend(
        lambda: SqlUnitOfWork(engine, codec, clock),
        lambda: SqlReader(engine, codec),
        lambda: feed_settled(engine),
    )


@pytest.fixture
def new_uow(store: Backend) -> UowFactory:
    return store.new_uow


async def append(
    new_uow: UowFactory,
    case_id: str,
    events: list[NewEvent],
    expected: int | None,
    regulator: str = "ofcom",
) -> AppendResult:
    async with new_uow() as uow:
        result = await uow.events.append(case_id, regulator, events, expected)
        await uow.commit()
    return result


async def test_append_numbers_versions_and_positions_increase(new_uow: UowFactory) -> None:
    first = await append(new_uow, "case-1", notes(3), 0)
    second = await append(new_uow, "case-1", notes(2), 3)

    envelopes = first.envelopes + second.envelopes
    assert [e.version for e in envelopes] == [1, 2, 3, 4, 5]
    positions = [e.position for e in envelopes]
    assert positions == sorted(positions)
    assert len(set(positions)) == 5
    assert second.version == 5
    assert not second.replayed
    async with new_uow() as uow:
        stored = await uow.events.read_case("case-1")
        assert stored == envelopes
        assert await uow.events.current_version("case-1") == 5
        assert await uow.events.current_version("nope") == 0
        assert await uow.events.read_case("nope") == []
        assert await uow.events.regulator_of("case-1") == envelopes[0].regulator
        assert await uow.events.regulator_of("nope") is None


async def test_stale_expected_version_conflicts_and_writes_nothing(
    new_uow: UowFactory, store: Backend
) -> None:
    await append(new_uow, "case-1", notes(2), 0)

    with pytest.raises(ConcurrencyConflict) as caught:
        await append(new_uow, "case-1", notes(1), 1)

    assert (caught.value.expected, caught.value.current) == (1, 2)
    assert caught.value.case_id == "case-1"
    assert await store.count() == 2


async def test_expected_zero_on_an_existing_case_conflicts(new_uow: UowFactory) -> None:
    await append(new_uow, "case-1", notes(1), 0)

    with pytest.raises(ConcurrencyConflict) as caught:
        await append(new_uow, "case-1", notes(1), 0)

    assert caught.value.current == 1


async def test_expected_none_appends_at_the_current_version(new_uow: UowFactory) -> None:
    await append(new_uow, "case-1", notes(2), None)
    result = await append(new_uow, "case-1", notes(1), None)

    assert result.version == 3


async def test_replay_returns_the_originals_and_writes_nothing(
    new_uow: UowFactory, store: Backend, clock: FixedClock
) -> None:
    batch = notes(2)
    original = await append(new_uow, "case-1", batch, 0)
    await append(new_uow, "case-1", notes(1), 2)
    clock.advance(timedelta(hours=1))

    # A retry with the (now stale) expected version it was first sent with.
    replay = await append(new_uow, "case-1", batch, 0)

    assert replay.replayed
    assert replay.envelopes == original.envelopes
    assert await store.count() == 3


async def test_a_retry_with_other_request_metadata_is_a_replay(
    new_uow: UowFactory, store: Backend
) -> None:
    first = note("original", event_id="e-1")
    original = await append(new_uow, "case-1", [first], 0)
    retry = msgspec.structs.replace(first, correlation_id="another-request", actor="bob")

    replay = await append(new_uow, "case-1", [retry], 0)

    assert replay.replayed
    assert replay.envelopes == original.envelopes
    assert await store.count() == 1


async def test_same_id_with_other_content_conflicts(new_uow: UowFactory, store: Backend) -> None:
    await append(new_uow, "case-1", [note("original", event_id="e-1")], 0)

    with pytest.raises(IdempotencyConflict) as caught:
        await append(new_uow, "case-1", [note("changed", event_id="e-1")], 0)

    assert caught.value.key == "e-1"
    assert await store.count() == 1


async def test_same_id_in_another_case_conflicts(new_uow: UowFactory) -> None:
    await append(new_uow, "case-1", [note(event_id="e-1")], 0)

    with pytest.raises(IdempotencyConflict, match="case-1"):
        await append(new_uow, "case-2", [note(event_id="e-1")], 0)


async def test_only_some_ids_stored_conflicts(new_uow: UowFactory, store: Backend) -> None:
    await append(new_uow, "case-1", [note(event_id="e-1")], 0)

    with pytest.raises(IdempotencyConflict, match="only some"):
        await append(new_uow, "case-1", [note(event_id="e-1"), note(event_id="e-2")], None)

    assert await store.count() == 1


async def test_concurrent_identical_appends_write_once(new_uow: UowFactory, store: Backend) -> None:
    await append(new_uow, "case-1", notes(1), 0)
    batch = notes(3)

    results = await asyncio.gather(*(append(new_uow, "case-1", batch, 1) for _ in range(4)))

    assert sum(not r.replayed for r in results) == 1
    assert all(r.envelopes == results[0].envelopes for r in results)
    assert await store.count() == 4


async def test_concurrent_different_appends_one_wins(new_uow: UowFactory, store: Backend) -> None:
    await append(new_uow, "case-1", notes(1), 0)

    outcomes = await asyncio.gather(
        *(append(new_uow, "case-1", notes(2), 1) for _ in range(4)), return_exceptions=True
    )

    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert len(conflicts) == 3
    assert all(c.current == 3 for c in conflicts)
    assert await store.count() == 3


async def test_concurrent_appends_without_expected_version_all_land(
    new_uow: UowFactory,
) -> None:
    await asyncio.gather(*(append(new_uow, "case-1", notes(2), None) for _ in range(5)))

    async with new_uow() as uow:
        stored = await uow.events.read_case("case-1")
    assert [e.version for e in stored] == list(range(1, 11))


async def test_read_case_between_versions(new_uow: UowFactory) -> None:
    await append(new_uow, "case-1", notes(5), 0)

    async with new_uow() as uow:
        tail = await uow.events.read_case("case-1", from_version=3)
        middle = await uow.events.read_case("case-1", from_version=2, to_version=3)

    assert [e.version for e in tail] == [3, 4, 5]
    assert [e.version for e in middle] == [2, 3]


async def test_read_all_pages_through_everything_and_filters_by_regulator(
    new_uow: UowFactory, store: Backend
) -> None:
    await append(new_uow, "ofcom-1", notes(3), 0, regulator="ofcom")
    await append(new_uow, "ico-1", notes(2), 0, regulator="ico")
    await append(new_uow, "ofcom-1", notes(2), 3, regulator="ofcom")
    await store.settle()

    async with new_uow() as uow:
        pages, after = [], 0
        while page := await uow.events.read_all(after, 2):
            pages.append(page)
            after = page[-1].position
        ofcom = await uow.events.read_all(0, 100, regulators=["ofcom"])
        both = await uow.events.read_all(0, 100, regulators={"ofcom", "ico"})
        none = await uow.events.read_all(0, 100, regulators=[])
        after_third = await uow.events.read_all(ofcom[2].position, 100, regulators=["ofcom"])

    feed = [e for page in pages for e in page]
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [(e.case_id, e.version) for e in feed] == [
        *(("ofcom-1", v) for v in (1, 2, 3)),
        *(("ico-1", v) for v in (1, 2)),
        *(("ofcom-1", v) for v in (4, 5)),
    ]
    assert [e.position for e in feed] == sorted(e.position for e in feed)
    assert [e.version for e in ofcom] == [1, 2, 3, 4, 5]
    assert {e.regulator for e in ofcom} == {"ofcom"}
    assert both == feed
    assert none == []
    assert [e.version for e in after_third] == [4, 5]


async def test_read_all_refuses_a_limit_below_one(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        with pytest.raises(ValueError, match="limit"):
            await uow.events.read_all(0, 0)


async def test_recorded_at_comes_from_the_clock_and_occurred_at_from_the_poster(
    new_uow: UowFactory, clock: FixedClock
) -> None:
    paris = timezone_plus(1)
    event = NewEvent(
        event_id="e-1",
        event=ContactRecorded(occurred_on=date(2026, 1, 3), direction="in", channel="email"),
        occurred_at=datetime(2026, 1, 3, 17, 45, 1, 5, tzinfo=paris),
        actor="bob",
        causation_id="cmd-9",
    )
    appended = await append(new_uow, "case-1", [event], 0)

    async with new_uow() as uow:
        (stored,) = await uow.events.read_case("case-1")
    assert stored == appended.envelopes[0]
    assert stored.recorded_at == clock.now()
    assert stored.recorded_at.tzinfo == UTC
    assert stored.occurred_at == datetime(2026, 1, 3, 16, 45, 1, 5, tzinfo=UTC)
    assert stored.occurred_at.tzinfo == UTC
    assert (stored.actor, stored.causation_id, stored.correlation_id) == ("bob", "cmd-9", None)
    assert stored.event == event.event
    assert (stored.type, stored.schema_version) == ("test_contact_recorded", 1)


def timezone_plus(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


async def test_hash_chain_links_each_case(new_uow: UowFactory) -> None:
    await append(new_uow, "case-1", notes(2), 0)
    await append(new_uow, "case-2", notes(1), 0)
    await append(new_uow, "case-1", notes(1), 2)

    async with new_uow() as uow:
        one = await uow.events.read_case("case-1")
        two = await uow.events.read_case("case-2")

    assert one[0].prev_hash is None
    assert two[0].prev_hash is None
    assert [e.prev_hash for e in one[1:]] == [e.hash for e in one[:-1]]
    assert len({e.hash for e in one + two}) == 4


async def test_leaving_without_commit_rolls_back(new_uow: UowFactory, store: Backend) -> None:
    async with new_uow() as uow:
        await uow.events.append("case-1", "ofcom", notes(1), 0)

    assert await store.count() == 0


async def test_reader_reads_and_refuses_to_append(new_uow: UowFactory, store: Backend) -> None:
    await append(new_uow, "case-1", notes(2), 0)
    await store.settle()

    async with store.new_reader() as reader:
        assert len(await reader.events.read_all(0, 10)) == 2
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.events.append("case-1", "ofcom", notes(1), None)
    assert await store.count() == 2


async def test_an_empty_or_self_duplicating_batch_is_refused(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        with pytest.raises(ValueError, match="nothing"):
            await uow.events.append("case-1", "ofcom", [], 0)
        with pytest.raises(ValueError, match="twice"):
            await uow.events.append("case-1", "ofcom", [note(event_id="x")] * 2, 0)


def test_note_helper_is_a_note() -> None:
    assert isinstance(note().event, NoteAdded)
    assert note().occurred_at == T0


async def test_find_returns_stored_ids_of_any_case_in_position_order(
    new_uow: UowFactory,
) -> None:
    await append(new_uow, "case-2", [note(event_id="b")], 0)
    await append(new_uow, "case-1", [note(event_id="a")], 0)

    async with new_uow() as uow:
        found = await uow.events.find("ofcom", ["a", "b", "missing"])
        none = await uow.events.find("ofcom", [])

    assert [(e.event_id, e.case_id) for e in found] == [("b", "case-2"), ("a", "case-1")]
    assert none == []


async def test_event_ids_are_unique_per_regulator(new_uow: UowFactory, store: Backend) -> None:
    """Another regulator's ids neither block an append nor show in ``find`` (#11 f6)."""
    ofcom = await append(new_uow, "ofcom-1", [note("ofcom's", event_id="e-1")], 0)

    ico = await append(new_uow, "ico-1", [note("ico's", event_id="e-1")], 0, regulator="ico")
    replay = await append(new_uow, "ico-1", [note("ico's", event_id="e-1")], None, "ico")
    async with new_uow() as uow:
        found = {r: await uow.events.find(r, ["e-1"]) for r in ("ofcom", "ico", "ec")}

    assert not ico.replayed
    assert replay.replayed
    assert replay.envelopes == ico.envelopes
    assert found == {"ofcom": ofcom.envelopes, "ico": ico.envelopes, "ec": []}
    assert await store.count() == 2
    with pytest.raises(IdempotencyConflict):  # within a regulator, ids stay unique
        await append(new_uow, "ico-2", [note("ico's", event_id="e-1")], 0, regulator="ico")


async def test_append_many_writes_every_case_or_reports_the_lost_race(
    new_uow: UowFactory,
) -> None:
    await append(new_uow, "many-1", notes(2, "a"), 0)
    async with new_uow() as uow:
        results = await uow.events.append_many(
            [("many-1", "ofcom", notes(2, "b"), 2), ("many-2", "ofcom", notes(3, "c"), 0)]
        )
        await uow.commit()
    assert [[e.version for e in r.envelopes] for r in results] == [[3, 4], [1, 2, 3]]
    async with new_uow() as uow:
        assert [e.version for e in await uow.events.read_case("many-1")] == [1, 2, 3, 4]
        assert (await uow.events.read_case("many-2"))[2].prev_hash == results[1].envelopes[1].hash
    async with new_uow() as uow:
        with pytest.raises(ConcurrencyConflict):
            # many-1 is at version 4, not 2: nothing of this batch may stay.
            await uow.events.append_many(
                [("many-3", "ofcom", notes(1, "d"), 0), ("many-1", "ofcom", notes(1, "e"), 2)]
            )
    async with new_uow() as uow:
        assert await uow.events.read_case("many-3") == []
