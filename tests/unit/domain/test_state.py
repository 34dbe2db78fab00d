"""``evolve`` and ``fold``: replaying facts, never refusing a valid history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casemgmt.domain import Event, InvalidHistory, RuleViolation, decide, evolve, fold
from casemgmt.domain.events import (
    CaseOpened,
    DeadlineExtended,
    DeadlineMet,
    DeadlineSet,
    NoteAdded,
)

from ._support import opened, regime

D = date
OPENED = CaseOpened(
    occurred_on=D(2026, 1, 5),
    case_id="c-1",
    regulator="ofcom",
    regime="osa-2023",
    subject="X Corp",
    title="Grok",
    opened_on=D(2026, 1, 5),
    timezone="Europe/London",
    calendar="england-and-wales",
    stage="opened",
)
SET = DeadlineSet(
    occurred_on=D(2026, 1, 5),
    deadline_id="d-1",
    kind="response_due",
    label="l",
    due_on=D(2026, 1, 9),
)


def test_no_events_fold_to_no_case() -> None:
    assert fold([]) is None


def test_a_stream_must_start_with_case_opened() -> None:
    with pytest.raises(InvalidHistory, match="a case starts with case_opened, not note_added"):
        fold([NoteAdded(occurred_on=D(2026, 1, 5), text="x")])


def test_an_event_class_outside_the_catalogue_is_not_history() -> None:
    class Stray(Event, frozen=True, kw_only=True, tag="stray"):
        """Not in the catalogue."""

    state = fold([OPENED])
    with pytest.raises(InvalidHistory, match="Stray is not in the event catalogue"):
        evolve(state, Stray(occurred_on=D(2026, 1, 6)))


def test_the_opened_case_carries_everything_evolve_needs() -> None:
    state = fold([OPENED])
    assert state is not None
    assert (state.case_id, state.stage, state.status, state.timezone) == (
        "c-1",
        "opened",
        "open",
        "Europe/London",
    )
    assert (state.opened_on, state.last_event_on, state.event_count) == (D(2026, 1, 5),) * 2 + (1,)


def test_a_deadline_is_due_at_the_end_of_its_local_day_and_keeps_its_moves() -> None:
    moved = DeadlineExtended(
        occurred_on=D(2026, 1, 8), deadline_id="d-1", due_on=D(2026, 4, 1), reason="asked nicely"
    )
    state = fold([OPENED, SET, moved])
    assert state is not None
    [deadline] = state.deadlines
    assert deadline.due_at == datetime(2026, 4, 1, 22, 59, 59, tzinfo=UTC)
    assert [(h.from_due_on, h.to_due_on, h.reason) for h in deadline.history] == [
        (D(2026, 1, 9), D(2026, 4, 1), "asked nicely")
    ]
    assert state.last_event_on == D(2026, 1, 8)
    assert state.event_count == 3


def test_facts_about_unknown_deadlines_change_nothing_but_the_counters() -> None:
    state = fold([OPENED, DeadlineMet(occurred_on=D(2026, 1, 6), deadline_id="ghost")])
    assert state is not None
    assert state.deadlines == ()
    assert state.event_count == 2


def test_last_event_on_is_the_latest_business_date_even_when_posted_out_of_order() -> None:
    state = fold(
        [
            OPENED,
            NoteAdded(occurred_on=D(2026, 1, 20), text="later"),
            NoteAdded(occurred_on=D(2026, 1, 10), text="earlier, posted late"),
        ]
    )
    assert state is not None
    assert state.last_event_on == D(2026, 1, 20)
    assert state.notes == 2


def test_open_deadlines_are_listed_soonest_first() -> None:
    later = DeadlineSet(
        occurred_on=D(2026, 1, 5), deadline_id="d-0", kind="k", label="l", due_on=D(2026, 3, 1)
    )
    state = fold([OPENED, later, SET])
    assert state is not None
    assert [d.deadline_id for d in state.open_deadlines()] == ["d-1", "d-0"]


def test_state_is_immutable() -> None:
    state = fold([OPENED])
    with pytest.raises(AttributeError):
        state.stage = "closed"  # type: ignore[misc, union-attr]


def test_dates_in_a_new_case_may_not_lie_in_the_future() -> None:
    early = opened("ofcom", "foi-2000", D(2026, 1, 5), received_on=D(2026, 1, 9))
    with pytest.raises(RuleViolation, match="received_on 2026-01-09 is after today"):
        decide(None, early, regime("ofcom", "foi-2000"), D(2026, 1, 5))
