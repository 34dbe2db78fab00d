"""The shape of case state: frozen structs that ``casemgmt.domain.state.evolve.evolve`` builds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, get_args

import msgspec

from casemgmt.domain.calendar.deadlines import due_instant
from casemgmt.domain.calendar.explain import Explanation
from casemgmt.domain.parties import Obligation, OurParty, Party

__all__ = [
    "ACTIVE",
    "DEADLINE_STATUSES",
    "UNRESOLVED",
    "AppealState",
    "CaseState",
    "DeadlineChange",
    "DeadlineState",
    "DeadlineStatus",
    "NoticeState",
    "PenaltyState",
]

#: ``met_late``: met after its due day; ``closed``: a window that ended unused.
DeadlineStatus = Literal["open", "met", "met_late", "missed", "closed", "cancelled", "paused"]
DEADLINE_STATUSES: tuple[str, ...] = get_args(DeadlineStatus)
ACTIVE: frozenset[str] = frozenset({"open", "paused"})
#: Deadlines that still need someone to act: open, paused, or a duty missed and not yet
#: resolved (met late, waived or cancelled).
UNRESOLVED: frozenset[str] = frozenset({"open", "paused", "missed"})


class _State(msgspec.Struct, frozen=True, kw_only=True):
    pass


class DeadlineChange(_State, frozen=True, kw_only=True):
    """One move of a due date: from ``from_due_on`` to ``to_due_on`` on ``on``."""

    on: date
    from_due_on: date
    to_due_on: date
    reason: str
    rule: str | None = None


class DeadlineState(_State, frozen=True, kw_only=True):
    """A dated obligation. ``due_at`` is the UTC instant it ends: ``ends_at`` local time on
    the due day (tribunal filings: 17:00), else the end of that day. ``explanation`` says
    why it falls on ``due_on``.

    ``party`` must (``obligation = "duty"``) or may (``"window"``) act by then. A deadline
    recorded before deadlines named their party reads as the subject's duty.
    """

    deadline_id: str
    kind: str
    label: str
    due_on: date
    due_at: datetime
    status: DeadlineStatus = "open"
    rule: str | None = None
    set_on: date
    basis_on: date | None = None
    trigger: str | None = None
    notice_id: str | None = None
    penalty_id: str | None = None
    met_on: date | None = None
    missed_on: date | None = None
    cancelled_on: date | None = None
    paused_on: date | None = None
    paused_by: str | None = None
    closed_on: date | None = None
    history: tuple[DeadlineChange, ...] = ()
    party: Party = "subject"
    obligation: Obligation = "duty"
    ends_at: str | None = None
    explanation: Explanation | None = None

    @property
    def active(self) -> bool:
        """Open or paused: the obligation still stands."""
        return self.status in ACTIVE

    @property
    def unresolved(self) -> bool:
        """Open, paused, or missed and not yet met late, waived or cancelled."""
        return self.status in UNRESOLVED

    @property
    def settled_on(self) -> date | None:
        """The day it was met, missed, closed or cancelled (None while it stands)."""
        return self.met_on or self.cancelled_on or self.closed_on or self.missed_on


class NoticeState(_State, frozen=True, kw_only=True):
    """A notice issued on the case."""

    notice_id: str
    kind: str
    issued_on: date
    reference: str | None = None
    respond_by: date | None = None
    court_application_on: date | None = None
    status: Literal["issued", "withdrawn"] = "issued"
    representations_on: date | None = None


class PenaltyState(_State, frozen=True, kw_only=True):
    """A penalty imposed on the case (``amount`` is a decimal string).

    A daily penalty adds ``daily_rate`` a day from ``daily_from`` for at most
    ``daily_max_days`` days, until the deadline ``daily_until`` is met (compliance);
    ``casemgmt.domain.state.penalties.accrual`` says how much has accrued by a day.
    """

    penalty_id: str
    amount: str
    currency: str
    basis: str
    imposed_on: date
    payable_by: date | None = None
    paid: bool = False
    paid_on: date | None = None
    notice_id: str | None = None
    daily_rate: str | None = None
    daily_from: date | None = None
    daily_max_days: int | None = None
    daily_until: str | None = None


class AppealState(_State, frozen=True, kw_only=True):
    """An appeal and, once decided, its outcome."""

    appeal_id: str
    lodged_on: date
    against: str | None = None
    forum: str | None = None
    outcome: str | None = None
    decided_on: date | None = None


class CaseState(_State, frozen=True, kw_only=True):
    """Everything known about a case, folded from its events."""

    case_id: str
    regulator: str
    regime: str
    subject: str
    related_parties: tuple[str, ...] = ()
    title: str
    reference: str | None = None
    timezone: str
    calendar: str
    stage: str
    status: Literal["open", "closed"] = "open"
    opened_on: date
    received_on: date | None = None
    closed_on: date | None = None
    our_party: OurParty = "regulator"
    #: The person the case is assigned to (``case_assigned``), None until assigned.
    assignee: str | None = None
    notices: tuple[NoticeState, ...] = ()
    deadlines: tuple[DeadlineState, ...] = ()
    penalties: tuple[PenaltyState, ...] = ()
    appeals: tuple[AppealState, ...] = ()
    investigation_open: bool = False
    assessment_outcome: str | None = None
    response_outcome: str | None = None
    exemptions: tuple[str, ...] = ()
    last_event_on: date
    event_count: int = 1
    contacts: int = 0
    notes: int = 0
    reminders_sent: int = 0
    reminders_failed: int = 0

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    def deadline(self, deadline_id: str) -> DeadlineState | None:
        return next((d for d in self.deadlines if d.deadline_id == deadline_id), None)

    def notice(self, notice_id: str) -> NoticeState | None:
        return next((n for n in self.notices if n.notice_id == notice_id), None)

    def penalty(self, penalty_id: str) -> PenaltyState | None:
        return next((p for p in self.penalties if p.penalty_id == penalty_id), None)

    def appeal(self, appeal_id: str) -> AppealState | None:
        return next((a for a in self.appeals if a.appeal_id == appeal_id), None)

    def open_deadlines(self) -> list[DeadlineState]:
        """Open and paused deadlines, soonest first."""
        return sorted((d for d in self.deadlines if d.active), key=lambda d: d.due_on)

    def due_at(self, due_on: date, ends_at: str | None = None) -> datetime:
        """The UTC instant that ends ``due_on`` (at ``ends_at`` if given) in the case's zone."""
        return due_instant(due_on, self.timezone, ends_at)
