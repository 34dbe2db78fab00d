"""The event catalogue: every event a case stream may hold, by its stable ``type`` tag.

``AnyEvent`` is the tagged union (decode it with one ``msgspec`` decoder built once);
``EVENT_TYPES`` maps each tag to its class. ``DERIVED_ONLY`` are tags that ``decide``
produces itself and refuses as proposed actions.
"""

from __future__ import annotations

from typing import TypeAlias

from casemgmt.domain.events.base import Event
from casemgmt.domain.events.case import (
    AppealDecided,
    AppealLodged,
    AssessmentConcluded,
    AssessmentStarted,
    CaseClosed,
    CaseOpened,
    ContactRecorded,
    InvestigationClosed,
    InvestigationOpened,
    NoteAdded,
    StageChanged,
)
from casemgmt.domain.events.deadlines import (
    DeadlineCancelled,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    DeadlinePaused,
    DeadlineSet,
    ReminderFailed,
    ReminderSent,
)
from casemgmt.domain.events.enforcement import (
    NoticeIssued,
    NoticeWithdrawn,
    PenaltyImposed,
    PenaltyPaid,
    RepresentationsReceived,
)
from casemgmt.domain.events.foi import (
    ClarificationReceived,
    ClarificationRequested,
    FeePaid,
    FeesNoticeIssued,
    IcoComplaintLodged,
    InternalReviewCompleted,
    InternalReviewRequested,
    PublicInterestExtension,
    ResponseSent,
)

__all__ = [
    "DERIVED_ONLY",
    "EVENT_TYPES",
    "AnyEvent",
    "AppealDecided",
    "AppealLodged",
    "AssessmentConcluded",
    "AssessmentStarted",
    "CaseClosed",
    "CaseOpened",
    "ClarificationReceived",
    "ClarificationRequested",
    "ContactRecorded",
    "DeadlineCancelled",
    "DeadlineExtended",
    "DeadlineMet",
    "DeadlineMissed",
    "DeadlinePaused",
    "DeadlineSet",
    "Event",
    "FeePaid",
    "FeesNoticeIssued",
    "IcoComplaintLodged",
    "InternalReviewCompleted",
    "InternalReviewRequested",
    "InvestigationClosed",
    "InvestigationOpened",
    "NoteAdded",
    "NoticeIssued",
    "NoticeWithdrawn",
    "PenaltyImposed",
    "PenaltyPaid",
    "PublicInterestExtension",
    "ReminderFailed",
    "ReminderSent",
    "RepresentationsReceived",
    "ResponseSent",
    "StageChanged",
]

AnyEvent: TypeAlias = (
    CaseOpened
    | CaseClosed
    | NoteAdded
    | ContactRecorded
    | AssessmentStarted
    | AssessmentConcluded
    | InvestigationOpened
    | InvestigationClosed
    | AppealLodged
    | AppealDecided
    | StageChanged
    | DeadlineSet
    | DeadlineMet
    | DeadlineExtended
    | DeadlineMissed
    | DeadlineCancelled
    | DeadlinePaused
    | ReminderSent
    | ReminderFailed
    | NoticeIssued
    | NoticeWithdrawn
    | RepresentationsReceived
    | PenaltyImposed
    | PenaltyPaid
    | ClarificationRequested
    | ClarificationReceived
    | FeesNoticeIssued
    | FeePaid
    | PublicInterestExtension
    | ResponseSent
    | InternalReviewRequested
    | InternalReviewCompleted
    | IcoComplaintLodged
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_tag(): cls
    for cls in (
        CaseOpened,
        CaseClosed,
        NoteAdded,
        ContactRecorded,
        AssessmentStarted,
        AssessmentConcluded,
        InvestigationOpened,
        InvestigationClosed,
        AppealLodged,
        AppealDecided,
        StageChanged,
        DeadlineSet,
        DeadlineMet,
        DeadlineExtended,
        DeadlineMissed,
        DeadlineCancelled,
        DeadlinePaused,
        ReminderSent,
        ReminderFailed,
        NoticeIssued,
        NoticeWithdrawn,
        RepresentationsReceived,
        PenaltyImposed,
        PenaltyPaid,
        ClarificationRequested,
        ClarificationReceived,
        FeesNoticeIssued,
        FeePaid,
        PublicInterestExtension,
        ResponseSent,
        InternalReviewRequested,
        InternalReviewCompleted,
        IcoComplaintLodged,
    )
}

DERIVED_ONLY: frozenset[str] = frozenset({"stage_changed", "deadline_paused"})
