"""ImportService on the in-memory adapters: a result per line, batches, re-runs, scope."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from datetime import date
from typing import Self

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import MemoryCaseUnitOfWork, MemoryDatabase
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.envelope import AppendResult, NewEvent
from casemgmt.application.imports import ImportItem, ImportService
from casemgmt.domain.events import CaseOpened, DeadlineMet, NoteAdded
from casemgmt.domain.events.base import Event
from tests.support.worker import ADMIN, case_with_deadline
from tests.unit.application.conftest import regimes

JAN5 = date(2026, 1, 5)
ICO_ONLY = Principal(key_id="k-ico", name="ico", role=Role.WRITER, regulators=frozenset({"ico"}))


def opened(case_id: str) -> CaseOpened:
    return CaseOpened(
        occurred_on=JAN5,
        case_id=case_id,
        regulator="ofcom",
        regime="osa-2023",
        subject="X Corp",
        title=f"case {case_id}",
        opened_on=JAN5,
    )


def line(n: int, case_id: str, event: Event, event_id: str | None = None) -> ImportItem:
    return ImportItem(line=n, case_id=case_id, proposal=Proposal(event=event, event_id=event_id))


def file() -> list[ImportItem]:
    """Seven lines over three batches of three: two cases, four kinds of refusal."""
    return [
        line(1, "ofcom-c-1", opened("ofcom-c-1"), "o-1"),
        line(2, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="first"), "n-1"),
        ImportItem(line=3, case_id=None, error="not JSON", field="body"),
        line(4, "ofcom-c-9", NoteAdded(occurred_on=JAN5, text="no such case"), "n-9"),
        line(5, "ofcom-c-1", DeadlineMet(occurred_on=JAN5, deadline_id="none"), "m-1"),
        line(6, "ofcom-c-2", opened("ofcom-c-2"), "o-2"),
        line(7, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="first"), "n-1"),
    ]


async def test_each_line_gets_a_result_and_accepted_lines_their_version(
    imports: ImportService, db: MemoryDatabase
) -> None:
    summary = await imports.run(ADMIN, file())

    assert (summary.accepted, summary.duplicate, summary.rejected) == (3, 1, 3)
    by_line = {r.line: r for r in summary.results}
    assert [by_line[n].status for n in range(1, 8)] == [
        "accepted",
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
        "duplicate",
    ]
    assert (by_line[1].version, by_line[2].version, by_line[6].version) == (1, 2, 1)
    assert by_line[3].reason == "not JSON"
    assert by_line[3].field == "body"
    assert by_line[4].reason == "case 'ofcom-c-9' not found"
    assert by_line[5].rule is not None
    assert by_line[7].version == 2
    assert [(r.case_id, r.version) for r in db.tables.events] == [
        ("ofcom-c-1", 1),
        ("ofcom-c-1", 2),
        ("ofcom-c-2", 1),
    ]


async def test_running_the_same_file_again_writes_nothing(
    imports: ImportService, db: MemoryDatabase
) -> None:
    await imports.run(ADMIN, file())
    before = list(db.tables.events)

    again = await imports.run(ADMIN, file())

    assert (again.accepted, again.duplicate, again.rejected) == (0, 4, 3)
    assert db.tables.events == before


async def test_an_id_reused_for_other_content_is_rejected(
    imports: ImportService, db: MemoryDatabase
) -> None:
    await imports.run(ADMIN, file())

    changed = await imports.run(
        ADMIN, [line(1, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="changed"), "n-1")]
    )

    assert changed.results[0].status == "rejected"
    assert "other content" in (changed.results[0].reason or "")
    assert len(db.tables.events) == 3


async def test_lines_outside_the_principals_scope_are_not_found(
    imports: ImportService, db: MemoryDatabase
) -> None:
    summary = await imports.run(ICO_ONLY, file()[:2])

    assert [r.reason for r in summary.results] == ["case 'ofcom-c-1' not found"] * 2
    assert db.tables.events == []


async def test_accepted_cases_are_projected_in_the_batchs_transaction(
    imports: ImportService, db: MemoryDatabase
) -> None:
    await imports.run(ADMIN, file())

    assert sorted(db.tables.cases) == ["ofcom-c-1", "ofcom-c-2"]
    assert db.tables.cases["ofcom-c-1"].version == 2
    assert db.tables.snapshots["ofcom-c-2"][0] == 1


def _versions_match_the_store(summary_results: Sequence[object], db: MemoryDatabase) -> bool:
    stored = {(r.case_id, r.event_id): r.version for r in db.tables.events}
    return all(
        stored[(r.case_id, r.event_id)] == r.version  # type: ignore[attr-defined]
        for r in summary_results
        if r.status in ("accepted", "duplicate")  # type: ignore[attr-defined]
    )


async def test_a_line_repeating_one_of_the_batch_before_is_a_duplicate_with_its_version(
    imports: ImportService, db: MemoryDatabase
) -> None:
    # Batches of three: line 4 repeats line 2 while (overlapped) line 2's batch is still
    # being written, and ofcom-c-1 goes on in the second batch from where the first left it.
    summary = await imports.run(
        ADMIN,
        [
            line(1, "ofcom-c-1", opened("ofcom-c-1"), "o-1"),
            line(2, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="first"), "n-1"),
            line(3, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="second"), "n-2"),
            line(4, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="first"), "n-1"),
            line(5, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="third"), "n-3"),
            line(6, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="other"), "n-2"),
            line(7, "ofcom-c-1", NoteAdded(occurred_on=JAN5, text="fourth"), "n-4"),
        ],
    )

    by_line = {r.line: r for r in summary.results}
    assert [by_line[n].status for n in range(1, 8)] == [
        "accepted",
        "accepted",
        "accepted",
        "duplicate",
        "accepted",
        "rejected",
        "accepted",
    ]
    assert by_line[4].version == by_line[2].version is not None
    assert "other content" in (by_line[6].reason or "")
    assert by_line[3].version is not None
    assert by_line[5].version == by_line[3].version + 1
    assert by_line[7].version == by_line[5].version + 1
    assert _versions_match_the_store(summary.results, db)


async def test_a_case_moved_on_by_another_writer_is_decided_again(
    db: MemoryDatabase, clock: FixedClock
) -> None:
    """Another writer meets the deadline after the first batch was decided and before it
    is written: that batch is decided again (its deadline_met now refused), and so is the
    batch decided meanwhile (overlapped) from what the first would have left: the repeat
    of the refused line is refused too, not taken for a duplicate of an event never
    stored."""
    cases = CaseService(lambda: MemoryCaseUnitOfWork(db), regimes(), clock)
    meddle: list[str] = []

    class Meddling(MemoryCaseUnitOfWork):
        async def __aenter__(self) -> Self:
            uow = await super().__aenter__()
            append_many = uow.events.append_many

            async def meddled(
                batches: Sequence[tuple[str, str, Sequence[NewEvent], int]],
            ) -> list[AppendResult]:
                touched = [case_id for case_id, *_ in batches]
                if meddle and meddle[0] in touched:
                    met = DeadlineMet(occurred_on=JAN5, deadline_id="d1")
                    command = RecordCommand(case_id=meddle.pop(), proposals=[Proposal(event=met)])
                    await cases.record(ADMIN, command)
                return await append_many(batches)

            uow.events.append_many = meddled  # type: ignore[method-assign]
            return uow

    for overlap in (False, True):
        case_id = f"ofcom-c-{int(overlap)}"
        await case_with_deadline(cases, case_id, JAN5, date(2026, 2, 2))
        meddle.append(case_id)
        imports = ImportService(
            lambda: Meddling(db), regimes(), clock, batch_size=2, overlap=overlap
        )
        met = DeadlineMet(occurred_on=JAN5, deadline_id="d1")
        summary = await imports.run(
            ADMIN,
            [
                line(1, case_id, NoteAdded(occurred_on=JAN5, text="a"), f"{case_id}-a"),
                line(2, case_id, met, f"{case_id}-m"),
                line(3, case_id, met, f"{case_id}-m"),
                line(4, case_id, NoteAdded(occurred_on=JAN5, text="b"), f"{case_id}-b"),
            ],
        )

        assert not meddle, "the other writer never got in"
        statuses = [r.status for r in summary.results]
        assert statuses == ["accepted", "rejected", "rejected", "accepted"], overlap
        assert _versions_match_the_store(summary.results, db)
        written = [(r.event_id, r.type) for r in db.tables.events if r.case_id == case_id]
        assert (f"{case_id}-m", "deadline_met") not in written
        assert [t for _, t in written].count("deadline_met") == 1


async def test_collections_are_fewer_while_imports_run_and_as_before_after(
    imports: ImportService,
) -> None:
    before = gc.get_threshold()
    first = imports.stream(ADMIN, file())
    second = imports.stream(ADMIN, file()[:1])
    await anext(first)
    during = gc.get_threshold()
    await anext(second)
    await first.aclose()  # the first to start ends first: the second still runs
    still = gc.get_threshold()
    await second.aclose()

    assert during[0] > before[0]
    assert still == during
    assert gc.get_threshold() == before
