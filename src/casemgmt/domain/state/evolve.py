"""Case state: ``evolve`` applies one event, ``fold`` a whole stream.

``evolve`` replays facts: it never refuses a valid history (``decide`` checked the rules
when the events were recorded), so an event about an unknown deadline or notice changes
nothing rather than raising. Only a stream that does not start with ``case_opened``
raises ``InvalidHistory``. ``evolve`` takes no regime: whatever it needs (time zone,
calendar name, stage) is carried by the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, get_args

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
    step = _STEPS.get(type(event))
    if step is None:
        raise InvalidHistory(f"{type(event).__name__} is not in the event catalogue")
    if state is None:
        if type(event) is CaseOpened:
            return _opened(event)
        raise InvalidHistory(f"a case starts with case_opened, not {event.type_tag()}")
    # One copy of the state per event: each step writes its changes and the bookkeeping
    # (the latest business day seen, one more event) in one ``replace``.
    on = event.occurred_on
    latest = on if on > state.last_event_on else state.last_event_on
    return step(state, event, latest, state.event_count + 1)


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


# A step: ``(state, event, last_event_on, event_count) -> state`` (see ``evolve``).


def _unchanged(s: CaseState, e: Any, on: date, n: int) -> CaseState:
    return replace(s, last_event_on=on, event_count=n)


def _closed(s: CaseState, e: CaseClosed, on: date, n: int) -> CaseState:
    return replace(s, status="closed", closed_on=e.occurred_on, last_event_on=on, event_count=n)


def _note(s: CaseState, e: NoteAdded, on: date, n: int) -> CaseState:
    return replace(s, notes=s.notes + 1, last_event_on=on, event_count=n)


def _assigned(s: CaseState, e: CaseAssigned, on: date, n: int) -> CaseState:
    return replace(s, assignee=e.assignee, last_event_on=on, event_count=n)


def _contact(s: CaseState, e: ContactRecorded, on: date, n: int) -> CaseState:
    return replace(s, contacts=s.contacts + 1, last_event_on=on, event_count=n)


def _concluded(s: CaseState, e: AssessmentConcluded, on: date, n: int) -> CaseState:
    return replace(s, assessment_outcome=e.outcome, last_event_on=on, event_count=n)


def _investigation_opened(s: CaseState, e: InvestigationOpened, on: date, n: int) -> CaseState:
    return replace(s, investigation_open=True, last_event_on=on, event_count=n)


def _investigation_closed(s: CaseState, e: InvestigationClosed, on: date, n: int) -> CaseState:
    return replace(s, investigation_open=False, last_event_on=on, event_count=n)


def _stage(s: CaseState, e: StageChanged, on: date, n: int) -> CaseState:
    return replace(s, stage=e.stage, last_event_on=on, event_count=n)


def _deadline_met(s: CaseState, e: DeadlineMet, on: date, n: int) -> CaseState:
    return _with_deadline(s, e.deadline_id, lambda d: _met(d, e), on, n)


def _deadline_missed(s: CaseState, e: DeadlineMissed, on: date, n: int) -> CaseState:
    return _settle(s, e.deadline_id, on, n, status="missed", missed_on=e.occurred_on)


def _deadline_closed(s: CaseState, e: DeadlineClosed, on: date, n: int) -> CaseState:
    return _settle(s, e.deadline_id, on, n, status="closed", closed_on=e.occurred_on)


def _deadline_cancelled(s: CaseState, e: DeadlineCancelled, on: date, n: int) -> CaseState:
    return _settle(s, e.deadline_id, on, n, status="cancelled", cancelled_on=e.occurred_on)


def _deadline_paused(s: CaseState, e: DeadlinePaused, on: date, n: int) -> CaseState:
    return _settle(
        s, e.deadline_id, on, n, status="paused", paused_on=e.occurred_on, paused_by=e.rule
    )


def _reminder_sent(s: CaseState, e: ReminderSent, on: date, n: int) -> CaseState:
    return replace(s, reminders_sent=s.reminders_sent + 1, last_event_on=on, event_count=n)


def _reminder_failed(s: CaseState, e: ReminderFailed, on: date, n: int) -> CaseState:
    return replace(s, reminders_failed=s.reminders_failed + 1, last_event_on=on, event_count=n)


def _notice_withdrawn(s: CaseState, e: NoticeWithdrawn, on: date, n: int) -> CaseState:
    return _with_notice(s, e.notice_id, lambda x: replace(x, status="withdrawn"), on, n)


def _representations(s: CaseState, e: RepresentationsReceived, on: date, n: int) -> CaseState:
    day = e.occurred_on
    return _with_notice(s, e.notice_id, lambda x: replace(x, representations_on=day), on, n)


def _response(s: CaseState, e: ResponseSent, on: date, n: int) -> CaseState:
    return replace(
        s,
        response_outcome=e.outcome,
        exemptions=tuple(e.exemptions),
        last_event_on=on,
        event_count=n,
    )


def _deadline_set(s: CaseState, e: DeadlineSet, on: date, n: int) -> CaseState:
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
    return replace(s, deadlines=(*others, deadline), last_event_on=on, event_count=n)


def _with_deadline(
    s: CaseState,
    deadline_id: str,
    change: Callable[[DeadlineState], DeadlineState],
    on: date,
    n: int,
) -> CaseState:
    deadlines = tuple(change(d) if d.deadline_id == deadline_id else d for d in s.deadlines)
    return replace(s, deadlines=deadlines, last_event_on=on, event_count=n)


def _met(d: DeadlineState, e: DeadlineMet) -> DeadlineState:
    """Met; met late after its due day or instant, or once it was recorded missed."""
    late = (
        d.status == "missed"
        or e.occurred_on > d.due_on
        or (e.occurred_at is not None and e.occurred_at > d.due_at)
    )
    return replace(d, status="met_late" if late else "met", met_on=e.occurred_on)


def _settle(
    s: CaseState, deadline_id: str, on: date, n: int, *, status: DeadlineStatus, **when: object
) -> CaseState:
    return _with_deadline(s, deadline_id, lambda d: replace(d, status=status, **when), on, n)


def _extended(s: CaseState, e: DeadlineExtended, on: date, n: int) -> CaseState:
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

    return _with_deadline(s, e.deadline_id, change, on, n)


def _notice_issued(s: CaseState, e: NoticeIssued, on: date, n: int) -> CaseState:
    notice = NoticeState(
        notice_id=e.notice_id,
        kind=e.notice_kind,
        issued_on=e.occurred_on,
        reference=e.reference,
        respond_by=e.respond_by,
        court_application_on=e.court_application_on,
    )
    return replace(s, notices=(*s.notices, notice), last_event_on=on, event_count=n)


def _with_notice(
    s: CaseState,
    notice_id: str,
    change: Callable[[NoticeState], NoticeState],
    on: date,
    n: int,
) -> CaseState:
    notices = tuple(change(x) if x.notice_id == notice_id else x for x in s.notices)
    return replace(s, notices=notices, last_event_on=on, event_count=n)


def _penalty_imposed(s: CaseState, e: PenaltyImposed, on: date, n: int) -> CaseState:
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
    return replace(s, penalties=(*s.penalties, penalty), last_event_on=on, event_count=n)


def _penalty_paid(s: CaseState, e: PenaltyPaid, on: date, n: int) -> CaseState:
    unpaid = [p.penalty_id for p in s.penalties if not p.paid]
    target = e.penalty_id or (unpaid[0] if len(unpaid) == 1 else None)
    penalties = tuple(
        replace(p, paid=True, paid_on=e.occurred_on) if p.penalty_id == target else p
        for p in s.penalties
    )
    return replace(s, penalties=penalties, last_event_on=on, event_count=n)


def _appeal_lodged(s: CaseState, e: AppealLodged, on: date, n: int) -> CaseState:
    appeal = AppealState(
        appeal_id=e.appeal_id or f"appeal-{len(s.appeals) + 1}",
        lodged_on=e.occurred_on,
        against=e.against,
        forum=e.forum,
    )
    return replace(s, appeals=(*s.appeals, appeal), last_event_on=on, event_count=n)


def _appeal_decided(s: CaseState, e: AppealDecided, on: date, n: int) -> CaseState:
    pending = [a.appeal_id for a in s.appeals if a.outcome is None]
    target = e.appeal_id or (pending[0] if len(pending) == 1 else None)
    appeals = tuple(
        replace(a, outcome=e.outcome, decided_on=e.occurred_on) if a.appeal_id == target else a
        for a in s.appeals
    )
    return replace(s, appeals=appeals, last_event_on=on, event_count=n)


#: Each catalogue event class and what it changes (looked up by exact class: an event
#: class outside the catalogue finds no step). Events without a step of their own change
#: nothing but the bookkeeping; the effects of most on deadlines and stage arrive as
#: derived events.
_STEPS: dict[type[Event], Callable[[CaseState, Any, date, int], CaseState]] = {
    CaseOpened: _unchanged,
    AssessmentStarted: _unchanged,
    CaseClosed: _closed,
    NoteAdded: _note,
    CaseAssigned: _assigned,
    ContactRecorded: _contact,
    AssessmentConcluded: _concluded,
    InvestigationOpened: _investigation_opened,
    InvestigationClosed: _investigation_closed,
    AppealLodged: _appeal_lodged,
    AppealDecided: _appeal_decided,
    StageChanged: _stage,
    DeadlineSet: _deadline_set,
    DeadlineMet: _deadline_met,
    DeadlineMissed: _deadline_missed,
    DeadlineClosed: _deadline_closed,
    DeadlineCancelled: _deadline_cancelled,
    DeadlinePaused: _deadline_paused,
    DeadlineExtended: _extended,
    ReminderSent: _reminder_sent,
    ReminderFailed: _reminder_failed,
    NoticeIssued: _notice_issued,
    NoticeWithdrawn: _notice_withdrawn,
    RepresentationsReceived: _representations,
    PenaltyImposed: _penalty_imposed,
    PenaltyPaid: _penalty_paid,
    ResponseSent: _response,
    ClarificationRequested: _unchanged,
    ClarificationReceived: _unchanged,
    FeesNoticeIssued: _unchanged,
    FeePaid: _unchanged,
    PublicInterestExtension: _unchanged,
    ExtensionAgreed: _unchanged,
    InternalReviewRequested: _unchanged,
    InternalReviewCompleted: _unchanged,
    RegulatorComplaintLodged: _unchanged,
}
if set(_STEPS) != set(get_args(AnyEvent)) or any(
    EVENT_TYPES.get(cls.type_tag()) is not cls for cls in _STEPS
):  # pragma: no cover - a catalogue class without a step fails at import
    raise TypeError("evolve's steps do not match the event catalogue (AnyEvent)")
