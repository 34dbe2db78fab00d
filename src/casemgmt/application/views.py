"""What queries return: the shapes of DESIGN.md §5 (case summary, deadline row, envelope)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from casemgmt.application.envelope import Envelope
from casemgmt.application.readmodels import CaseSummary, DeadlineRow
from casemgmt.domain.calendar.calendars import BusinessCalendar
from casemgmt.domain.calendar.explain import Explanation
from casemgmt.domain.errors import CalendarYearUnavailable
from casemgmt.domain.events.base import explicit_builtins
from casemgmt.domain.parties import is_ours, standing
from casemgmt.domain.state.evolve import CaseState
from casemgmt.domain.state.model import ACTIVE, DeadlineState, PenaltyState
from casemgmt.domain.state.penalties import accrual

__all__ = [
    "CaseDetail",
    "CaseSummary",
    "DeadlineView",
    "EnvelopeView",
    "deadline_row",
    "deadline_view",
    "envelope_view",
    "penalty_view",
]


class DeadlineView(msgspec.Struct, frozen=True, kw_only=True):
    """A deadline as a team sees it on a day.

    ``days_remaining`` / ``working_days_remaining``: only while it stands (open or
    paused), else null. ``overdue``: a duty past due and not met (open or missed).
    ``days_late`` / ``working_days_late``: of an overdue duty (still counting) or a duty
    met late (kept). ``party`` must (``obligation = "duty"``) or may (``"window"``) act;
    ``ours``/``side``: whether that party is the case's ``our_party``; ``standing``: what
    it means to us (``breach``, ``due``, ``closing``, ``lost_right``, ``their_overdue``,
    ``theirs``, ``done``).
    ``calendar_confirmed`` is False when the due year's holiday list has not been checked
    against its published source (Commission years before the Official Journal check);
    ``explanation`` says why it falls on its day.
    """

    deadline_id: str
    case_id: str
    regulator: str
    kind: str
    label: str
    due_on: date
    due_at: datetime
    status: str
    days_remaining: int | None
    working_days_remaining: int | None
    overdue: bool
    regime: str = ""
    rule: str | None = None
    subject: str = ""
    title: str = ""
    calendar: str = ""
    calendar_confirmed: bool = True
    explanation: Explanation | None = None
    party: str = "subject"
    obligation: str = "duty"
    ours: bool = False
    side: str = "theirs"
    standing: str = "theirs"
    days_late: int | None = None
    working_days_late: int | None = None


class CaseDetail(CaseSummary, frozen=True, kw_only=True):
    """A case's summary plus its deadlines, notices, penalties and appeals.

    ``as_of`` / ``known_at`` echo the time-travel parameters the state was built for.
    """

    received_on: date | None = None
    closed_on: date | None = None
    deadlines: list[DeadlineView] = []
    notices: list[dict[str, Any]] = []
    penalties: list[dict[str, Any]] = []
    appeals: list[dict[str, Any]] = []
    as_of: date | None = None
    known_at: datetime | None = None


def penalty_view(state: CaseState, penalty: PenaltyState, today: date) -> dict[str, Any]:
    """A penalty as JSON; a daily penalty (OSA s.137) adds ``accrued``: days and amount
    accrued by the end of ``today`` (the case's as_of day, or its local today), the total
    with the fixed amount, the last day it can accrue and what stopped it (``cap`` or
    ``compliance``; null while it runs)."""
    view: dict[str, Any] = msgspec.to_builtins(penalty)
    found = accrual(state, penalty, today)
    if found is not None:
        view["accrued"] = {
            "as_of": found.as_of.isoformat(),
            "days": found.days,
            "amount": f"{found.amount:.2f}",
            "total": f"{found.total:.2f}",
            "ends_on": found.ends_on.isoformat(),
            "stopped_by": found.stopped_by,
        }
    return view


class EnvelopeView(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    case_id: str
    regulator: str
    version: int
    position: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


def envelope_view(envelope: Envelope) -> EnvelopeView:
    data = explicit_builtins(envelope.event)
    data.pop("type", None)
    return EnvelopeView(
        event_id=envelope.event_id,
        case_id=envelope.case_id,
        regulator=envelope.regulator,
        version=envelope.version,
        position=envelope.position,
        type=envelope.type,
        schema_version=envelope.schema_version,
        occurred_at=envelope.occurred_at,
        recorded_at=envelope.recorded_at,
        actor=envelope.actor,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        data=data,
    )


def deadline_row(state: CaseState, d: DeadlineState) -> DeadlineRow:
    """The queue row of one of a case's deadlines."""
    ours = is_ours(d.party, state.our_party)
    return DeadlineRow(
        deadline_id=d.deadline_id,
        case_id=state.case_id,
        regulator=state.regulator,
        regime=state.regime,
        kind=d.kind,
        label=d.label,
        due_on=d.due_on,
        due_at=d.due_at,
        status=d.status,
        rule=d.rule,
        calendar=state.calendar,
        timezone=state.timezone,
        subject=state.subject,
        title=state.title,
        explanation=d.explanation,
        party=d.party,
        obligation=d.obligation,
        ours=ours,
        queue_rank=(0 if d.status == "missed" else 1) if ours else 2,
        settled_on=d.settled_on,
    )


def _working_days_left(calendar: BusinessCalendar, today: date, due_on: date) -> int | None:
    """Working days from ``today`` to ``due_on`` (O(log n)); None past the calendar's years."""
    try:
        return calendar.working_days_between(today, due_on)
    except CalendarYearUnavailable:
        return None


def _late(calendar: BusinessCalendar, due_on: date, until: date) -> int | None:
    """Working days from ``due_on`` to ``until``; None past the calendar's years."""
    late = _working_days_left(calendar, due_on, until)
    return None if late is None else max(late, 0)


def deadline_view(
    row: DeadlineRow, today: date, now: datetime, calendar: BusinessCalendar
) -> DeadlineView:
    """``row`` as seen on ``today`` / at ``now``: days left or late, overdue, standing."""
    past_due = row.due_at < now
    standing_ = standing(row.ours, row.obligation, row.status, past_due)
    overdue = row.obligation == "duty" and (
        row.status == "missed" or (row.status == "open" and past_due)
    )
    active = row.status in ACTIVE
    late_until = today if overdue else row.settled_on if row.status == "met_late" else None
    return DeadlineView(
        deadline_id=row.deadline_id,
        case_id=row.case_id,
        regulator=row.regulator,
        kind=row.kind,
        label=row.label,
        due_on=row.due_on,
        due_at=row.due_at,
        status=row.status,
        days_remaining=(row.due_on - today).days if active else None,
        working_days_remaining=(
            _working_days_left(calendar, today, row.due_on) if active else None
        ),
        overdue=overdue,
        regime=row.regime,
        rule=row.rule,
        subject=row.subject,
        title=row.title,
        calendar=calendar.name,
        calendar_confirmed=calendar.confirmed(row.due_on.year),
        explanation=row.explanation,
        party=row.party,
        obligation=row.obligation,
        ours=row.ours,
        side="ours" if row.ours else "theirs",
        standing=standing_,
        days_late=None if late_until is None else max((late_until - row.due_on).days, 0),
        working_days_late=(None if late_until is None else _late(calendar, row.due_on, late_until)),
    )
