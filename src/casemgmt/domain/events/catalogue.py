"""The event catalogue: every event a case stream may hold, by its stable ``type`` tag.

``AnyEvent`` is the tagged union (decode it with one ``msgspec`` decoder built once) and
the one list of event types: ``EVENT_TYPES`` (each tag to its class) is derived from it.
``DERIVED_ONLY`` are tags that ``decide`` produces itself and refuses as proposed actions.
Import the event classes from ``casemgmt.domain.events``.
"""

from __future__ import annotations

from typing import TypeAlias, get_args

from casemgmt.domain.events import case, deadlines, enforcement, foi
from casemgmt.domain.events.base import Event

__all__ = ["DERIVED_ONLY", "EVENT_TYPES", "AnyEvent"]

AnyEvent: TypeAlias = (
    case.CaseOpened
    | case.CaseClosed
    | case.CaseAssigned
    | case.NoteAdded
    | case.ContactRecorded
    | case.AssessmentStarted
    | case.AssessmentConcluded
    | case.InvestigationOpened
    | case.InvestigationClosed
    | case.AppealLodged
    | case.AppealDecided
    | case.StageChanged
    | deadlines.DeadlineSet
    | deadlines.DeadlineMet
    | deadlines.DeadlineExtended
    | deadlines.DeadlineMissed
    | deadlines.DeadlineClosed
    | deadlines.DeadlineCancelled
    | deadlines.DeadlinePaused
    | deadlines.ExtensionAgreed
    | deadlines.ReminderSent
    | deadlines.ReminderFailed
    | enforcement.NoticeIssued
    | enforcement.NoticeWithdrawn
    | enforcement.RepresentationsReceived
    | enforcement.PenaltyImposed
    | enforcement.PenaltyPaid
    | foi.ClarificationRequested
    | foi.ClarificationReceived
    | foi.FeesNoticeIssued
    | foi.FeePaid
    | foi.PublicInterestExtension
    | foi.ResponseSent
    | foi.InternalReviewRequested
    | foi.InternalReviewCompleted
    | foi.RegulatorComplaintLodged
)

EVENT_TYPES: dict[str, type[Event]] = {cls.type_tag(): cls for cls in get_args(AnyEvent)}

DERIVED_ONLY: frozenset[str] = frozenset({"stage_changed", "deadline_paused"})
