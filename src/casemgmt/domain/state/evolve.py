"""Case state: ``evolve`` applies one event, ``fold`` a whole stream.

``evolve`` replays facts: it never refuses a valid history (``decide`` checked the rules
when the events were recorded), so an event about an unknown deadline or notice changes
nothing rather than raising. Only a stream that does not start with ``case_opened``
raises ``InvalidHistory``. ``evolve`` takes no regime: whatever it needs (time zone,
calendar name, stage) is carried by the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import assert_never, cast

from msgspec.structs import replace

from casemgmt.domain.errors import InvalidHistory
from casemgmt.domain.events import (
    EVENT_TYPES,
    AnyEvent,
    AppealDecided,
    AppealLodged,
    AssessmentConcluded,
    AssessmentStarted,
    CaseAssigned,
    CaseClosed,
    CaseOpened,
    ClarificationReceived,
    ClarificationRequested,
    ContactRecorded,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    DeadlinePaused,
    DeadlineSet,
    ExtensionAgreed,
    FeePaid,
    FeesNoticeIssued,
    InternalReviewCompleted,
    InternalReviewRequested,
    InvestigationClosed,
    InvestigationOpened,
    NoteAdded,
    NoticeIssued,
    NoticeWithdrawn,
    PenaltyImposed,
    PenaltyPaid,
    PublicInterestExtension,
    RegulatorComplaintLodged,
    ReminderFailed,
    ReminderSent,
    RepresentationsReceived,
    ResponseSent,
    StageChanged,
)
from casemgmt.domain.events.base import Event
from casemgmt.domain.state.model import (
    ACTIVE,
    AppealState,
    CaseState,
    DeadlineChange,
    DeadlineState,
    DeadlineStatus,
    NoticeState,
    PenaltyState,
)

__all__ = [
    "AppealState",
    "CaseState",
    "DeadlineChange",
    "DeadlineState",
    "DeadlineStatus",
    "NoticeState",
    "PenaltyState",
    "evolve",
    "fold",
]


def fold(events: Iterable[Event]) -> CaseState | None:
    """The state after ``events`` in stream order (None when there are none)."""
    state: CaseState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def evolve(state: CaseState | None, event: Event) -> CaseState:
    """The state after ``event`` happened to the case in ``state``.

    Raises ``InvalidHistory`` for a first event other than ``case_opened`` or an event
    class outside the catalogue.
    """
    if EVENT_TYPES.get(event.type_tag()) is not type(event):
        raise InvalidHistory(f"{type(event).__name__} is not in the event catalogue")
    if state is None:
        if isinstance(event, CaseOpened):
            return _opened(event)
        raise InvalidHistory(f"a case starts with case_opened, not {event.type_tag()}")
    after = _apply(state, cast(AnyEvent, event))
    return replace(
        after,
        last_event_on=max(after.last_event_on, event.occurred_on),
        event_count=after.event_count + 1,
    )


def _opened(e: CaseOpened) -> CaseState:
    return CaseState(
        case_id=e.case_id,
        regulator=e.regulator,
        regime=e.regime,
        subject=e.subject,
        related_parties=tuple(e.related_parties),
        title=e.title,
        reference=e.reference,
        timezone=e.timezone or "UTC",
        calendar=e.calendar or "calendar-days",
        stage=e.stage or "opened",
        opened_on=e.opened_on,
        received_on=e.received_on,
        our_party=e.our_party or "regulator",
        last_event_on=e.occurred_on,
    )


def _apply(s: CaseState, e: AnyEvent) -> CaseState:
    match e:
        case CaseOpened() | AssessmentStarted():
            return s
        case CaseClosed():
            return replace(s, status="closed", closed_on=e.occurred_on)
        case NoteAdded():
            return replace(s, notes=s.notes + 1)
        case CaseAssigned():
            return replace(s, assignee=e.assignee)
        case ContactRecorded():
            return replace(s, contacts=s.contacts + 1)
        case AssessmentConcluded():
            return replace(s, assessment_outcome=e.outcome)
        case InvestigationOpened():
            return replace(s, investigation_open=True)
        case InvestigationClosed():
            return replace(s, investigation_open=False)
        case AppealLodged():
            return _appeal_lodged(s, e)
        case AppealDecided():
            return _appeal_decided(s, e)
        case StageChanged():
            return replace(s, stage=e.stage)
        case DeadlineSet():
            return _deadline_set(s, e)
        case DeadlineMet():
            return _with_deadline(s, e.deadline_id, lambda d: _met(d, e))
        case DeadlineMissed():
            return _settle(s, e.deadline_id, "missed", missed_on=e.occurred_on)
        case DeadlineClosed():
            return _settle(s, e.deadline_id, "closed", closed_on=e.occurred_on)
        case DeadlineCancelled():
            return _settle(s, e.deadline_id, "cancelled", cancelled_on=e.occurred_on)
        case DeadlinePaused():
            return _settle(s, e.deadline_id, "paused", paused_on=e.occurred_on, paused_by=e.rule)
        case DeadlineExtended():
            return _extended(s, e)
        case ReminderSent():
            return replace(s, reminders_sent=s.reminders_sent + 1)
        case ReminderFailed():
            return replace(s, reminders_failed=s.reminders_failed + 1)
        case NoticeIssued():
            return _notice_issued(s, e)
        case NoticeWithdrawn():
            return _with_notice(s, e.notice_id, lambda n: replace(n, status="withdrawn"))
        case RepresentationsReceived():
            on = e.occurred_on
            return _with_notice(s, e.notice_id, lambda n: replace(n, representations_on=on))
        case PenaltyImposed():
            return _penalty_imposed(s, e)
        case PenaltyPaid():
            return _penalty_paid(s, e)
        case ResponseSent():
            return replace(s, response_outcome=e.outcome, exemptions=tuple(e.exemptions))
        case (
            ClarificationRequested()
            | ClarificationReceived()
            | FeesNoticeIssued()
            | FeePaid()
            | PublicInterestExtension()
            | ExtensionAgreed()
            | InternalReviewRequested()
            | InternalReviewCompleted()
            | RegulatorComplaintLodged()
        ):
            return s  # their effects on deadlines and stage arrive as derived events
        case _:
            assert_never(e)


def _deadline_set(s: CaseState, e: DeadlineSet) -> CaseState:
    deadline = DeadlineState(
        deadline_id=e.deadline_id,
        kind=e.kind,
        label=e.label,
        due_on=e.due_on,
        due_at=s.due_at(e.due_on, e.ends_at),
        rule=e.rule,
        set_on=e.occurred_on,
        basis_on=e.basis_on,
        trigger=e.trigger,
        notice_id=e.notice_id,
        penalty_id=e.penalty_id,
        party=e.party or "subject",
        obligation=e.obligation or "duty",
        ends_at=e.ends_at,
        explanation=e.explanation,
    )
    others = tuple(d for d in s.deadlines if d.deadline_id != e.deadline_id)
    return replace(s, deadlines=(*others, deadline))


def _with_deadline(
    s: CaseState, deadline_id: str, change: Callable[[DeadlineState], DeadlineState]
) -> CaseState:
    deadlines = tuple(change(d) if d.deadline_id == deadline_id else d for d in s.deadlines)
    return replace(s, deadlines=deadlines)


def _met(d: DeadlineState, e: DeadlineMet) -> DeadlineState:
    """Met; met late after its due day or instant, or once it was recorded missed."""
    late = (
        d.status == "missed"
        or e.occurred_on > d.due_on
        or (e.occurred_at is not None and e.occurred_at > d.due_at)
    )
    return replace(d, status="met_late" if late else "met", met_on=e.occurred_on)


def _settle(s: CaseState, deadline_id: str, status: DeadlineStatus, **when: object) -> CaseState:
    return _with_deadline(s, deadline_id, lambda d: replace(d, status=status, **when))


def _extended(s: CaseState, e: DeadlineExtended) -> CaseState:
    def change(d: DeadlineState) -> DeadlineState:
        move = DeadlineChange(
            on=e.occurred_on, from_due_on=d.due_on, to_due_on=e.due_on, reason=e.reason, rule=e.rule
        )
        return replace(
            d,
            due_on=e.due_on,
            due_at=s.due_at(e.due_on, d.ends_at),
            explanation=e.explanation,
            status="open" if d.status in ACTIVE else d.status,
            basis_on=e.basis_on or d.basis_on,
            paused_on=None,
            paused_by=None,
            history=(*d.history, move),
        )

    return _with_deadline(s, e.deadline_id, change)


def _notice_issued(s: CaseState, e: NoticeIssued) -> CaseState:
    notice = NoticeState(
        notice_id=e.notice_id,
        kind=e.notice_kind,
        issued_on=e.occurred_on,
        reference=e.reference,
        respond_by=e.respond_by,
        court_application_on=e.court_application_on,
    )
    return replace(s, notices=(*s.notices, notice))


def _with_notice(
    s: CaseState, notice_id: str, change: Callable[[NoticeState], NoticeState]
) -> CaseState:
    notices = tuple(change(n) if n.notice_id == notice_id else n for n in s.notices)
    return replace(s, notices=notices)


def _penalty_imposed(s: CaseState, e: PenaltyImposed) -> CaseState:
    penalty = PenaltyState(
        penalty_id=e.penalty_id or f"penalty-{len(s.penalties) + 1}",
        amount=e.amount,
        currency=e.currency,
        basis=e.basis,
        imposed_on=e.occurred_on,
        payable_by=e.payable_by,
        notice_id=e.notice_id,
        daily_rate=e.daily_rate,
        daily_from=e.daily_from,
        daily_max_days=e.daily_max_days,
        daily_until=e.daily_until,
    )
    return replace(s, penalties=(*s.penalties, penalty))


def _penalty_paid(s: CaseState, e: PenaltyPaid) -> CaseState:
    unpaid = [p.penalty_id for p in s.penalties if not p.paid]
    target = e.penalty_id or (unpaid[0] if len(unpaid) == 1 else None)
    penalties = tuple(
        replace(p, paid=True, paid_on=e.occurred_on) if p.penalty_id == target else p
        for p in s.penalties
    )
    return replace(s, penalties=penalties)


def _appeal_lodged(s: CaseState, e: AppealLodged) -> CaseState:
    appeal = AppealState(
        appeal_id=e.appeal_id or f"appeal-{len(s.appeals) + 1}",
        lodged_on=e.occurred_on,
        against=e.against,
        forum=e.forum,
    )
    return replace(s, appeals=(*s.appeals, appeal))


def _appeal_decided(s: CaseState, e: AppealDecided) -> CaseState:
    pending = [a.appeal_id for a in s.appeals if a.outcome is None]
    target = e.appeal_id or (pending[0] if len(pending) == 1 else None)
    appeals = tuple(
        replace(a, outcome=e.outcome, decided_on=e.occurred_on) if a.appeal_id == target else a
        for a in s.appeals
    )
    return replace(s, appeals=appeals)
