"""CaseService on the in-memory adapters: open, record, replay, races and scope."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import MemoryDatabase
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.errors import (
    ConcurrencyConflict,
    Forbidden,
    IdempotencyConflict,
    NotFound,
    ValidationFailed,
)
from casemgmt.domain.errors import RuleViolation
from casemgmt.domain.events import CaseOpened, DeadlineMet, DeadlineSet, NoteAdded
from tests.support.worker import ADMIN, case_with_deadline, open_case

JAN5 = date(2026, 1, 5)
ICO_ONLY = Principal(
    key_id="k-ico", name="ico team", role=Role.WRITER, regulators=frozenset({"ico"})
)


def note(text: str, on: date = JAN5) -> NoteAdded:
    return NoteAdded(occurred_on=on, text=text)


def command(case_id: str, *events: NoteAdded | DeadlineMet, **options: object) -> RecordCommand:
    return RecordCommand(
        case_id=case_id,
        proposals=[Proposal(event=e) for e in events],
        **options,  # type: ignore[arg-type]
    )


def stored(db: MemoryDatabase) -> list[tuple[str, int, str]]:
    return [(r.case_id, r.version, r.type) for r in db.tables.events]


async def test_opening_then_recording_appends_versions_and_updates_the_snapshot(
    cases: CaseService, db: MemoryDatabase
) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)

    result = await cases.record(ADMIN, command("ofcom-c-1", note("first"), note("second")))

    assert [e.version for e in result.envelopes] == [2, 3]
    assert not result.replayed
    version, state = db.tables.snapshots["ofcom-c-1"]
    assert (version, state.case_id, state.regulator) == (3, "ofcom-c-1", "ofcom")
    assert db.tables.cases["ofcom-c-1"].version == 3


async def test_an_idempotency_key_replays_the_first_result_and_writes_nothing(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)
    keyed = command("ofcom-c-1", note("once"), idempotency_key="k1", request_hash="h1")

    first = await cases.record(ADMIN, keyed)
    clock.advance(timedelta(hours=1))
    again = await cases.record(ADMIN, keyed)

    assert again.replayed
    assert again.envelopes == first.envelopes
    assert len(db.tables.events) == 2
    with pytest.raises(IdempotencyConflict, match="different request"):
        await cases.record(
            ADMIN, command("ofcom-c-1", note("other"), idempotency_key="k1", request_hash="h2")
        )


async def test_after_the_key_expires_its_derived_event_ids_still_prevent_a_duplicate(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)
    keyed = command("ofcom-c-1", note("once"), idempotency_key="k1", request_hash="h1")
    first = await cases.record(ADMIN, keyed)

    clock.advance(timedelta(hours=49))
    again = await cases.record(ADMIN, keyed)

    assert again.replayed
    assert again.envelopes == first.envelopes
    assert len(db.tables.events) == 2


async def test_a_reposted_event_id_replays_and_other_content_conflicts(
    cases: CaseService, db: MemoryDatabase
) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)
    posted = RecordCommand(
        case_id="ofcom-c-1", proposals=[Proposal(event=note("x"), event_id="e-1")]
    )

    first = await cases.record(ADMIN, posted)
    again = await cases.record(ADMIN, posted)

    assert again.replayed
    assert again.envelopes == first.envelopes
    changed = RecordCommand(
        case_id="ofcom-c-1", proposals=[Proposal(event=note("y"), event_id="e-1")]
    )
    with pytest.raises(IdempotencyConflict, match="other content"):
        await cases.record(ADMIN, changed)
    assert len(db.tables.events) == 2


async def test_reopening_the_same_case_replays_and_another_case_with_its_id_conflicts(
    cases: CaseService, db: MemoryDatabase
) -> None:
    opened = CaseOpened(
        occurred_on=JAN5,
        case_id="ofcom-c-1",
        regulator="ofcom",
        regime="osa-2023",
        subject="X Corp",
        title="t",
        opened_on=JAN5,
    )
    first = await cases.open_case(ADMIN, opened)

    again = await cases.open_case(ADMIN, opened)

    assert again.replayed
    assert again.envelopes == first.envelopes
    other = CaseOpened(
        **{**{f: getattr(opened, f) for f in opened.__struct_fields__}, "title": "u"}
    )
    with pytest.raises(IdempotencyConflict, match="already taken"):
        await cases.open_case(ADMIN, other)
    assert len(db.tables.events) == 1


async def test_a_refused_action_writes_nothing(cases: CaseService, db: MemoryDatabase) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)
    before = stored(db)

    with pytest.raises(RuleViolation):
        await cases.record(
            ADMIN,
            command("ofcom-c-1", note("fine"), DeadlineMet(occurred_on=JAN5, deadline_id="none")),
        )

    assert stored(db) == before
    assert db.tables.snapshots["ofcom-c-1"][0] == 1


async def test_a_stale_expected_version_is_a_conflict(cases: CaseService) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)
    await cases.record(ADMIN, command("ofcom-c-1", note("moves it on")))

    with pytest.raises(ConcurrencyConflict) as caught:
        await cases.record(ADMIN, command("ofcom-c-1", note("late"), expected_version=1))

    assert (caught.value.expected, caught.value.current) == (1, 2)


async def test_racing_writers_without_an_expected_version_all_land(
    cases: CaseService, db: MemoryDatabase
) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)

    results = await asyncio.gather(
        *(cases.record(ADMIN, command("ofcom-c-1", note(f"n{i}"))) for i in range(5))
    )

    assert sorted(r.version for r in results) == [2, 3, 4, 5, 6]
    assert [r.version for r in db.tables.streams["ofcom-c-1"]] == [1, 2, 3, 4, 5, 6]


async def test_racing_writers_with_the_same_expected_version_one_wins(cases: CaseService) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)

    outcomes = await asyncio.gather(
        *(
            cases.record(ADMIN, command("ofcom-c-1", note(f"n{i}"), expected_version=1))
            for i in range(3)
        ),
        return_exceptions=True,
    )

    assert sum(isinstance(o, ConcurrencyConflict) for o in outcomes) == 2
    assert [o.version for o in outcomes if not isinstance(o, BaseException)] == [2]


async def test_the_loser_of_a_race_is_decided_again_on_the_winners_state(
    cases: CaseService, db: MemoryDatabase
) -> None:
    """Both load the open deadline; the loser's append conflicts, and decided again the
    deadline is already met: refused, not met twice."""
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 2, 5))
    met = command("ofcom-c-1", DeadlineMet(occurred_on=date(2026, 1, 6), deadline_id="d1"))

    outcomes = await asyncio.gather(
        cases.record(ADMIN, met), cases.record(ADMIN, met), return_exceptions=True
    )

    assert sum(isinstance(o, RuleViolation) for o in outcomes) == 1
    assert [r.type for r in db.tables.streams["ofcom-c-1"]].count("deadline_met") == 1


async def test_a_case_outside_the_principals_scope_is_not_found(
    cases: CaseService, db: MemoryDatabase
) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)

    with pytest.raises(NotFound):
        await cases.record(ICO_ONLY, command("ofcom-c-1", note("peek")))
    with pytest.raises(NotFound):
        await cases.record(ICO_ONLY, command("nowhere", note("peek")))
    assert len(db.tables.events) == 1


async def test_a_principal_may_not_open_a_case_for_another_regulator(
    cases: CaseService, db: MemoryDatabase
) -> None:
    opened = CaseOpened(
        occurred_on=JAN5,
        case_id="ofcom-c-2",
        regulator="ofcom",
        regime="osa-2023",
        subject="X",
        title="t",
        opened_on=JAN5,
    )

    with pytest.raises(Forbidden) as caught:
        await cases.open_case(ICO_ONLY, opened)

    assert caught.value.field == "regulator"
    assert db.tables.events == []


async def test_an_unknown_regime_is_a_validation_error_on_the_regime_field(
    cases: CaseService, db: MemoryDatabase
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await open_case(cases, "ofcom-c-1", JAN5, regime="no-such-regime")

    assert caught.value.field == "regime"
    assert db.tables.events == []


async def test_derived_events_are_caused_by_the_posted_one(cases: CaseService) -> None:
    await open_case(cases, "ofcom-c-1", JAN5)

    result = await cases.record(
        ADMIN,
        command(
            "ofcom-c-1",
            DeadlineSet(
                occurred_on=JAN5,
                deadline_id="d1",
                kind="response_due",
                label="respond",
                due_on=date(2026, 2, 5),
                party="subject",
                obligation="duty",
            ),  # type: ignore[arg-type]
        ),
    )

    root = result.envelopes[0]
    assert root.causation_id is None
    assert all(e.causation_id == root.event_id for e in result.envelopes[1:])
