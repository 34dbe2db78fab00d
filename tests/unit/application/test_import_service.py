"""ImportService on the in-memory adapters: a result per line, batches, re-runs, scope."""

from __future__ import annotations

from datetime import date

from casemgmt.adapters.memory import MemoryDatabase
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import Proposal
from casemgmt.application.imports import ImportItem, ImportService
from casemgmt.domain.events import CaseOpened, DeadlineMet, NoteAdded
from casemgmt.domain.events.base import Event
from tests.support.worker import ADMIN

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
