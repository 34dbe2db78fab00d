"""Group commit of case commands (``SqlCaseWriter``, PostgreSQL): each command is answered
alone, a stale cached state or a lost race never fails a neighbour, and what the group
statement writes is what the unit-of-work path would have written.

Two containers on one database stand for two processes: what one writes, the other's
cache does not know.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.readmodels.tables import case_summary
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import Proposal, RecordCommand
from casemgmt.application.envelope import AppendResult
from casemgmt.application.errors import ConcurrencyConflict
from casemgmt.bootstrap import Container, build_container
from casemgmt.domain.events import CaseOpened
from casemgmt.domain.events.case import NoteAdded
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

WRITER = Principal(key_id="w", name="w", role=Role.WRITER)
NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.fixture
async def two(database_url: str, backend: str) -> AsyncIterator[tuple[Container, Container]]:
    if backend != "postgres":
        pytest.skip("group commit is PostgreSQL's; SQLite commands take the unit-of-work path")
    settings = Settings(
        database=DatabaseSettings(url=database_url), worker=WorkerSettings(broker_url="")
    )
    a = build_container(settings, clock=FixedClock(NOW))
    b = build_container(settings, clock=FixedClock(NOW))
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


async def _open(c: Container, case_id: str) -> AppendResult:
    opened = CaseOpened(
        occurred_on=date(2026, 3, 2),
        case_id=case_id,
        regulator="ofcom",
        regime="osa-2023",
        subject="X Corp",
        title="Group commit",
        opened_on=date(2026, 3, 2),
    )
    return await c.cases.open_case(WRITER, opened)


def _note(case_id: str, text: str, expected: int | None = None) -> RecordCommand:
    note = NoteAdded(occurred_on=date(2026, 3, 2), text=text)
    return RecordCommand(
        case_id=case_id, proposals=[Proposal(event=note)], expected_version=expected
    )


async def _summary_versions(c: Container) -> dict[str, int]:
    async with c.engine.connect() as conn:
        rows = await conn.execute(sa.select(case_summary.c.case_id, case_summary.c.version))
        return {row.case_id: row.version for row in rows}


async def test_a_group_commits_every_command_but_answers_a_stale_one_alone(
    two: tuple[Container, Container],
) -> None:
    a, b = two
    cases = [f"ofcom-gc-{n}" for n in range(8)]
    for case_id in cases:
        await _open(a, case_id)
    # "Another process" moves case 0 on: a's cached state of it is now one version behind.
    await b.cases.record(WRITER, _note(cases[0], "from b"))
    assert a.writer is not None
    groups_before = a.writer.groups
    alone: list[str] = []
    event.listen(a.engine.sync_engine, "before_cursor_execute", lambda *args: alone.append(args[2]))

    results = await asyncio.gather(*(a.cases.record(WRITER, _note(c, "from a")) for c in cases))

    # One group statement took all eight; case 0's row was refused in it and that command
    # alone went the full path (re-read, decided again), its neighbours committed in the
    # group.
    assert a.writer.groups == groups_before + 1
    assert len([s for s in alone if "INSERT INTO events" in s]) == 1
    assert [r.envelopes[-1].version for r in results] == [3] + [2] * 7
    assert all(not r.replayed for r in results)
    assert await _summary_versions(a) == {cases[0]: 3, **dict.fromkeys(cases[1:], 2)}
    report = await verify_chains(a.engine, chain=a.codec.chain)
    assert report.ok, report


async def test_a_stale_cache_never_hides_a_conflict_nor_invents_one(
    two: tuple[Container, Container],
) -> None:
    a, b = two
    await _open(a, "ofcom-gc-stale")
    await b.cases.record(WRITER, _note("ofcom-gc-stale", "from b"))  # now at version 2
    # a still has version 1 in memory: expecting 1 is a conflict with the stored 2...
    with pytest.raises(ConcurrencyConflict) as raised:
        await a.cases.record(WRITER, _note("ofcom-gc-stale", "late", expected=1))
    assert raised.value.current == 2
    # ...and expecting 2 is right, though a's memory said 1.
    result = await a.cases.record(WRITER, _note("ofcom-gc-stale", "on time", expected=2))
    assert result.envelopes[-1].version == 3
    assert (await _summary_versions(a))["ofcom-gc-stale"] == 3


async def test_reopening_a_case_through_the_group_is_the_same_answer(
    two: tuple[Container, Container],
) -> None:
    a, b = two
    await _open(a, "ofcom-gc-again")
    # The group's insert of version 1 is refused; the full path answers the re-post.
    assert (await _open(b, "ofcom-gc-again")).replayed
    async with b.engine.connect() as conn:
        count = await conn.scalar(
            sa.text("SELECT count(*) FROM events WHERE case_id = 'ofcom-gc-again'")
        )
    assert count == 1


async def test_a_cache_ahead_of_the_database_writes_nothing_out_of_order(
    two: tuple[Container, Container],
) -> None:
    a, _ = two
    await _open(a, "ofcom-gc-ahead")
    assert a.writer is not None
    cached = a.writer.cached("ofcom-gc-ahead")
    assert cached is not None
    # As after a restore: this process remembers version 5, the database has version 1.
    async with a.reader() as reader:
        (first,) = await reader.events.read_case("ofcom-gc-ahead")
    a.writer.remember(cached[1], msgspec.structs.replace(first, version=5))
    result = await a.cases.record(WRITER, _note("ofcom-gc-ahead", "after the restore"))
    assert result.envelopes[-1].version == 2
    assert result.envelopes[-1].prev_hash == first.hash
    report = await verify_chains(a.engine, chain=a.codec.chain)
    assert report.ok, report


async def test_a_cancelled_caller_never_fails_its_neighbours(
    two: tuple[Container, Container],
) -> None:
    a, _ = two
    cases = [f"ofcom-gc-cancel-{n}" for n in range(3)]
    for case_id in cases:
        await _open(a, case_id)
    tasks = [asyncio.create_task(a.cases.record(WRITER, _note(c, "grouped"))) for c in cases]
    await asyncio.sleep(0)  # all three are queued for one group, none answered yet
    tasks[1].cancel()
    first, cancelled, last = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(cancelled, asyncio.CancelledError)
    assert isinstance(first, AppendResult)
    assert isinstance(last, AppendResult)
    assert [first.envelopes[-1].version, last.envelopes[-1].version] == [2, 2]
    # The cancelled caller's command was in the group: written, as a lost answer is.
    assert await _summary_versions(a) == dict.fromkeys(cases, 2)


async def test_two_processes_writing_the_same_cases_lose_and_duplicate_nothing(
    two: tuple[Container, Container],
) -> None:
    """Both writers' groups hold several cases' head rows (``event_streams``) at once and
    contend for the same ones: every command lands once, versions stay contiguous, each
    head is its case's last event, and no command fails (a lost race goes the long way)."""
    a, b = two
    cases = [f"ofcom-both-{n}" for n in range(12)]
    for case_id in cases:
        await _open(a, case_id)
    rounds = 6

    async def writer(c: Container, name: str, order: list[str]) -> list[AppendResult]:
        done = []
        for k in range(rounds):
            done += await asyncio.gather(
                *(c.cases.record(WRITER, _note(case_id, f"{name}-{k}")) for case_id in order)
            )
        return done

    from_a, from_b = await asyncio.gather(
        writer(a, "a", cases), writer(b, "b", list(reversed(cases)))
    )

    assert len(from_a) == len(from_b) == rounds * len(cases)
    assert all(len(r.envelopes) == 1 and not r.replayed for r in from_a + from_b)
    async with a.engine.connect() as conn:
        stored = (
            await conn.execute(
                sa.text(
                    "SELECT case_id, array_agg(version ORDER BY version) FROM events GROUP BY 1"
                )
            )
        ).all()
        heads = dict(
            (await conn.execute(sa.text("SELECT case_id, version FROM event_streams"))).all()
        )
    expected = list(range(1, 2 + 2 * rounds))
    assert {row[0]: list(row[1]) for row in stored} == dict.fromkeys(cases, expected)
    assert heads == dict.fromkeys(cases, expected[-1])
    written = {(e.case_id, e.version) for r in from_a + from_b for e in r.envelopes}
    assert len(written) == 2 * rounds * len(cases)
    report = await verify_chains(a.engine, chain=a.codec.chain)
    assert report.ok, report


async def test_a_lane_connection_left_busy_costs_no_command(
    two: tuple[Container, Container],
) -> None:
    """After a PostgreSQL shutdown the driver may still be consuming a failed statement's
    error when the writer's next group goes out on that connection; it is refused before
    anything is sent, and the group must go the long way, not fail (a 500)."""
    a, _ = two
    writer = a.writer
    assert writer is not None
    await _open(a, "ofcom-busy-1")
    for lane in writer._held:  # every lane holds a connection, each left busy
        assert await writer._ready(lane)
    busy = [
        asyncio.ensure_future(lane.raw.fetchval("SELECT pg_sleep(0.3)")) for lane in writer._held
    ]
    await asyncio.sleep(0.05)

    result = await a.cases.record(WRITER, _note("ofcom-busy-1", "after the restart"))

    assert result.envelopes[-1].version == 2
    await asyncio.gather(*busy, return_exceptions=True)
    again = await a.cases.record(WRITER, _note("ofcom-busy-1", "and once more"))
    assert again.envelopes[-1].version == 3
