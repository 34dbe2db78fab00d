"""Sane dates relative to the case: nothing happens before the case began, and no answer
comes before what it answers.

Rule ids: ``occurred_before_case_opened`` (an event dated before the case's receipt or
opening, unless it says ``backfill``), ``received_after_opened``, ``response_before_request``,
``response_before_notice``, ``paid_before_imposed``, ``decided_before_lodged``,
``resumed_before_stopped``, ``before_deadline_set``, ``stated_date_before_event``. Each
names the offending field. (Absolute bounds, 1900..2200, are checked when a body is
decoded.)
"""

from __future__ import annotations

from datetime import date

from casemgmt.domain.decide.context import Context
from casemgmt.domain.events import (
    AppealDecided,
    CaseOpened,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    ExtensionAgreed,
    NoticeIssued,
    PenaltyImposed,
    PenaltyPaid,
    RepresentationsReceived,
    ResponseSent,
)
from casemgmt.domain.events.base import Event
from casemgmt.domain.state.model import AppealState, CaseState, PenaltyState

__all__ = ["case_began", "check_event_dates", "check_opening_dates", "stated_dates"]


def case_began(s: CaseState) -> date:
    """The first day of the case: the request's receipt, or the opening if earlier."""
    return min(s.opened_on, s.received_on or s.opened_on)


def check_opening_dates(a: CaseOpened, ctx: Context) -> None:
    """A request cannot be received after the case about it was opened."""
    if a.received_on is not None and a.received_on > a.opened_on:
        raise ctx.refuse(
            "received_after_opened",
            f"received_on {a.received_on} is after opened_on {a.opened_on}",
            "received_on",
        )


def check_event_dates(s: CaseState, a: Event, ctx: Context) -> None:
    """Refuse ``a`` when its date does not fit the case or the thing it answers."""
    began = case_began(s)
    if isinstance(a, ResponseSent) and a.occurred_on < began:
        raise ctx.refuse(
            "response_before_request",
            f"response_sent on {a.occurred_on} is before the request ({began})",
            "occurred_on",
        )
    if a.occurred_on < began and not a.backfill:
        raise ctx.refuse(
            "occurred_before_case_opened",
            f"{a.type_tag()} on {a.occurred_on} is before the case began on {began}; "
            f"set backfill = true to record earlier history",
            "occurred_on",
        )
    answered = _answered(s, a, ctx)
    if answered is not None and a.occurred_on < answered[1]:
        rule, since, what = answered
        raise ctx.refuse(
            rule, f"{a.type_tag()} on {a.occurred_on} is before {what} ({since})", "occurred_on"
        )
    for name, day in stated_dates(a):
        if day < a.occurred_on:
            raise ctx.refuse(
                "stated_date_before_event",
                f"{name} {day} is before the {a.type_tag()} itself ({a.occurred_on})",
                name,
            )


def _answered(s: CaseState, a: Event, ctx: Context) -> tuple[str, date, str] | None:
    """(rule, day, what) for an event that answers or follows an earlier one."""
    match a:
        case RepresentationsReceived(notice_id=notice_id):
            n = s.notice(notice_id)
            return ("response_before_notice", n.issued_on, f"notice {notice_id}") if n else None
        case PenaltyPaid(penalty_id=penalty_id):
            p = _penalty(s, penalty_id)
            return ("paid_before_imposed", p.imposed_on, f"penalty {p.penalty_id}") if p else None
        case AppealDecided(appeal_id=appeal_id):
            x = _appeal(s, appeal_id)
            return ("decided_before_lodged", x.lodged_on, f"appeal {x.appeal_id}") if x else None
        case (
            DeadlineClosed()
            | DeadlineMet()
            | DeadlineMissed()
            | DeadlineCancelled()
            | DeadlineExtended()
            | ExtensionAgreed()
        ):
            d = s.deadline(a.deadline_id)
            return ("before_deadline_set", d.set_on, f"{d.deadline_id} was set") if d else None
        case _:
            return _resumed(s, a, ctx)


def _resumed(s: CaseState, a: Event, ctx: Context) -> tuple[str, date, str] | None:
    rules = {r.id for r in ctx.regime.clock_stops if r.resume_on == a.type_tag()}
    stops = [d.paused_on for d in s.deadlines if d.paused_by in rules and d.paused_on]
    return ("resumed_before_stopped", max(stops), "the clock was stopped") if stops else None


def _penalty(s: CaseState, penalty_id: str | None) -> PenaltyState | None:
    unpaid = [p for p in s.penalties if not p.paid]
    if penalty_id is None:
        return unpaid[0] if len(unpaid) == 1 else None
    return s.penalty(penalty_id)


def _appeal(s: CaseState, appeal_id: str | None) -> AppealState | None:
    pending = [x for x in s.appeals if x.outcome is None]
    if appeal_id is None:
        return pending[0] if len(pending) == 1 else None
    return s.appeal(appeal_id)


def stated_dates(a: Event) -> list[tuple[str, date]]:
    """The dates ``a`` states for what must follow it, by field name."""
    fields: tuple[str, ...] = ()
    match a:
        case NoticeIssued():
            fields = ("respond_by", "appeal_by")
        case PenaltyImposed():
            fields = ("payable_by", "daily_from")
        case ResponseSent():
            fields = ("review_by",)
        case ExtensionAgreed():
            fields = ("extended_to",)
    return [(f, getattr(a, f)) for f in fields if getattr(a, f) is not None]
