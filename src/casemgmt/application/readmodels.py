"""Read-model rows, filters and pages (their ports, ``Projector`` and ``CaseQueries``,
are in ``application.ports``).

Projections are folded from events and can be dropped and rebuilt from the log. The
inline ones are applied in the append's own transaction (read-your-writes); each row
carries the case version it reflects, so applying the same events twice changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

import msgspec

from casemgmt.application.envelope import Envelope
from casemgmt.domain.calendar.explain import Explanation
from casemgmt.domain.state.evolve import CaseState

__all__ = [
    "UNRESOLVED",
    "CaseChange",
    "CaseFilter",
    "CaseRow",
    "CaseSummary",
    "DeadlineFilter",
    "DeadlineRow",
    "Page",
    "SideCounts",
    "StageCount",
]

T = TypeVar("T")


class CaseChange(msgspec.Struct, frozen=True, kw_only=True):
    """One case's newly appended envelopes and its state after them."""

    case_id: str
    envelopes: list[Envelope]
    state: CaseState


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A case as the contract shows it in lists and as the head of its detail."""

    case_id: str
    regulator: str
    regime: str
    subject: str
    title: str
    reference: str | None
    stage: str
    status: str
    version: int
    opened_on: date
    last_event_at: datetime
    open_deadlines: int
    next_due_on: date | None
    related_parties: list[str] = []
    our_party: str = "regulator"
    #: The person the case is assigned to (its latest ``case_assigned``), None if nobody.
    assignee: str | None = None


class CaseRow(CaseSummary, frozen=True, kw_only=True):
    """A ``case_summary`` row: the summary plus its pagination key."""

    seq: int = 0


class DeadlineRow(msgspec.Struct, frozen=True, kw_only=True):
    """A ``deadlines`` row. ``queue_rank``: 0 our missed duty, 1 ours, 2 theirs."""

    deadline_id: str
    case_id: str
    regulator: str
    regime: str
    kind: str
    label: str
    due_on: date
    due_at: datetime
    status: str
    rule: str | None
    calendar: str
    timezone: str
    subject: str = ""
    title: str = ""
    explanation: Explanation | None = None
    party: str = "subject"
    obligation: str = "duty"
    ours: bool = False
    queue_rank: int = 2
    settled_on: date | None = None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    items: list[T]
    next_cursor: str | None


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str | None = None
    regime: str | None = None
    status: str | None = None
    stage: str | None = None
    subject: str | None = None
    q: str | None = None
    assignee: str | None = None


#: The queue's default status filter: what still needs someone to act (open, paused, and
#: missed duties not yet met late, waived or cancelled).
UNRESOLVED = "unresolved"


class DeadlineFilter(msgspec.Struct, frozen=True, kw_only=True):
    """``status``: one status, ``"unresolved"`` (open, paused, missed) or None (all).

    ``overdue_at``: duties past due at that instant and not met (open or missed).
    ``our_party``: only cases tracked by that side (a regulator's team, a company's...).
    """

    regulator: str | None = None
    case_id: str | None = None
    kind: str | None = None
    status: str | None = UNRESOLVED
    due_before: date | None = None
    due_after: date | None = None  # due on or after (the calendar feed's recent settled ones)
    overdue_at: datetime | None = None
    party: str | None = None
    obligation: str | None = None
    ours: bool | None = None
    our_party: str | None = None
    #: Only deadlines of the cases assigned to this person (``me``: the caller).
    assignee: str | None = None


class SideCounts(msgspec.Struct, frozen=True, kw_only=True):
    """The queue at a glance, from the team's side.

    ``our_breaches``: our duties missed or past due; ``our_duties``: our duties not yet
    due; ``our_windows``: our windows still open; ``lost_rights``: our windows closed
    unused; ``their_overdue``: their duties missed or past due; ``their_duties``: their
    duties not yet due.
    """

    our_breaches: int = 0
    our_duties: int = 0
    our_windows: int = 0
    lost_rights: int = 0
    their_overdue: int = 0
    their_duties: int = 0


class StageCount(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str
    regime: str
    stage: str
    open_cases: int
