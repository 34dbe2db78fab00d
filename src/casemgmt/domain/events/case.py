"""Events of a case's life: opening, contact, assessment, investigation, appeal, closing."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import Code, Id, LongText, Name, Names, Text, TimeZone
from casemgmt.domain.parties import OurParty

__all__ = [
    "AppealDecided",
    "AppealLodged",
    "AssessmentConcluded",
    "AssessmentStarted",
    "Assignee",
    "CaseAssigned",
    "CaseClosed",
    "CaseOpened",
    "ContactRecorded",
    "InvestigationClosed",
    "InvestigationOpened",
    "NoteAdded",
    "StageChanged",
]


class CaseOpened(Event, frozen=True, kw_only=True, tag="case_opened"):
    """A regulator opened a case (for FOI: a request was received) under a regime.

    ``timezone``, ``calendar`` and ``stage`` are filled by ``decide`` from the regime, so
    that the stored stream is self-contained. ``received_on`` is when the request or
    complaint arrived, if that differs from ``opened_on``. ``our_party`` is the side of
    the case the team tracking it is on (``regulator``, ``subject`` or ``requester``);
    the application fills the deployment's default when the poster does not say.
    """

    case_id: Id
    regulator: Code
    regime: Code
    subject: Name
    title: Name
    opened_on: date
    related_parties: Names = []
    reference: Name | None = None
    received_on: date | None = None
    timezone: TimeZone | None = None
    calendar: Code | None = None
    stage: Code | None = None
    our_party: OurParty | None = None


Assignee = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]*$",
        description="The id of the person (user) the case is assigned to: letters, digits, "
        "'_', '.', ':', '@' and '-'.",
    ),
]


class CaseAssigned(Event, frozen=True, kw_only=True, tag="case_assigned"):
    """The case was given to ``assignee`` (a person's id) to work on, replacing whoever
    had it before; ``note`` says why (a handover, a specialism, leave)."""

    assignee: Assignee
    note: Text | None = None


class CaseClosed(Event, frozen=True, kw_only=True, tag="case_closed"):
    """The case was closed; its open deadlines are cancelled with it."""

    reason: Text | None = None


class NoteAdded(Event, frozen=True, kw_only=True, tag="note_added"):
    """Someone wrote a note on the case."""

    text: LongText


class ContactRecorded(Event, frozen=True, kw_only=True, tag="contact_recorded"):
    """The regulator and a party were in contact (a letter, e-mail, call or meeting)."""

    direction: Literal["inbound", "outbound"]
    channel: Code
    summary: Text
    urgent: bool = False
    parties: Names = []


class AssessmentStarted(Event, frozen=True, kw_only=True, tag="assessment_started"):
    """The regulator began assessing whether to act (``urgent`` for an expedited one)."""

    urgent: bool = False
    scope: Text | None = None


class AssessmentConcluded(Event, frozen=True, kw_only=True, tag="assessment_concluded"):
    """The assessment ended: no further action, or escalate (to an investigation)."""

    outcome: Literal["no_further_action", "escalate"]
    summary: Text | None = None


class InvestigationOpened(Event, frozen=True, kw_only=True, tag="investigation_opened"):
    """A formal investigation was opened under ``legal_basis``."""

    legal_basis: Text
    scope: Text | None = None


class InvestigationClosed(Event, frozen=True, kw_only=True, tag="investigation_closed"):
    """The formal investigation ended with ``outcome``."""

    outcome: Text


class AppealLodged(Event, frozen=True, kw_only=True, tag="appeal_lodged"):
    """A decision, notice or penalty was appealed (``decide`` numbers ``appeal_id`` if absent)."""

    appeal_id: Id | None = None
    against: Id | None = None
    forum: Name | None = None
    grounds: Text | None = None


class AppealDecided(Event, frozen=True, kw_only=True, tag="appeal_decided"):
    """The appeal body decided (``decide`` picks the only pending appeal if no id is given)."""

    outcome: Literal["allowed", "partly_allowed", "dismissed", "withdrawn", "remitted"]
    appeal_id: Id | None = None
    summary: Text | None = None


class StageChanged(Event, frozen=True, kw_only=True, tag="stage_changed"):
    """The case moved to ``stage`` because ``trigger`` happened (derived, never posted)."""

    stage: Code
    from_stage: Code
    trigger: Code
