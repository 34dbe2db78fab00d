"""What queries return: the shapes of DESIGN.md §5 (case summary, deadline row, envelope)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from casemgmt.application.envelope import Envelope
from casemgmt.domain.calendars import BusinessCalendar
from casemgmt.domain.state import CaseState
from casemgmt.domain.state_model import DeadlineState

__all__ = [
    "CaseDetail",
    "CaseSummary",
    "DeadlineView",
    "EnvelopeView",
    "deadline_view",
    "envelope_view",
]


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
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


class DeadlineView(msgspec.Struct, frozen=True, kw_only=True):
    deadline_id: str
    case_id: str
    regulator: str
    kind: str
    label: str
    due_on: date
    due_at: datetime
    status: str
    days_remaining: int
    working_days_remaining: int
    overdue: bool
    regime: str = ""
    rule: str | None = None
    subject: str = ""
    title: str = ""


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
    data = msgspec.to_builtins(envelope.event)
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


def deadline_view(
    state: CaseState, d: DeadlineState, today: date, now: datetime, calendar: BusinessCalendar
) -> DeadlineView:
    return DeadlineView(
        deadline_id=d.deadline_id,
        case_id=state.case_id,
        regulator=state.regulator,
        kind=d.kind,
        label=d.label,
        due_on=d.due_on,
        due_at=d.due_at,
        status=d.status,
        days_remaining=(d.due_on - today).days,
        working_days_remaining=calendar.working_days_between(today, d.due_on),
        overdue=d.status == "open" and d.due_at < now,
        regime=state.regime,
        rule=d.rule,
        subject=state.subject,
        title=state.title,
    )
