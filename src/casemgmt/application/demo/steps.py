"""The steps synthetic paths share: contact, assessment, notices, penalties, settlement."""

from __future__ import annotations

from datetime import date

from casemgmt.application.demo.timeline import Stop, Timeline
from casemgmt.domain.events import (
    AppealLodged,
    AssessmentConcluded,
    AssessmentStarted,
    ContactRecorded,
    DeadlineCancelled,
    InvestigationClosed,
    NoticeIssued,
    PenaltyImposed,
    PenaltyPaid,
)

__all__ = ["assess", "contact", "notice", "penalty", "settle", "suspend_payment"]

_CHANNELS = ("email", "letter", "meeting", "call")


def contact(t: Timeline, summaries: tuple[str, ...], urgent: float) -> None:
    t.add(
        ContactRecorded(
            occurred_on=t.later(0, 4),
            direction="outbound",
            channel=t.pick(_CHANNELS),
            urgent=t.chance(urgent),
            parties=[t.subject],
            summary=t.pick(summaries),
        )
    )


def assess(t: Timeline, p_nfa: float) -> None:
    """An assessment; with probability ``p_nfa`` it ends with no further action (closed)."""
    t.add(AssessmentStarted(occurred_on=t.later(2, 20), urgent=t.chance(0.15)))
    if t.chance(p_nfa):
        t.add(AssessmentConcluded(occurred_on=t.later(14, 60), outcome="no_further_action"))
        t.later(0, 10)
        t.close("No further action after assessment")
        raise Stop


def notice(
    t: Timeline,
    notice_id: str,
    kind: str,
    lo: int,
    hi: int,
    *,
    due_in: tuple[int, int] = (21, 42),
    due_on: date | None = None,
    duty: str | None = None,
    proposed_penalty: str | None = None,
    currency: str | None = None,
    track: str | None = None,
) -> date:
    """Issue a notice ``lo``..``hi`` days on, stating a due date ``due_in`` days after it
    (or ``due_on``); returns the due date. ``track`` names the deadline it sets, for
    ``Timeline.settle``."""
    day = t.later(lo, hi)
    due = due_on or t.ahead(*due_in)
    t.add(
        NoticeIssued(
            occurred_on=day,
            notice_id=notice_id,
            notice_kind=kind,
            respond_by=due,
            duty=duty,
            proposed_penalty=proposed_penalty,
            currency=currency,
        )
    )
    if track:
        t.expect(track, due)
    return due


def penalty(
    t: Timeline,
    amounts: tuple[str, ...],
    currency: str,
    basis: str,
    notice_id: str,
    penalty_kind: str | None = None,
) -> date:
    """Impose ``penalty-1`` within two weeks, payable in four to eight weeks; returns when."""
    day = t.later(0, 14)
    payable = t.ahead(28, 60)
    t.add(
        PenaltyImposed(
            occurred_on=day,
            penalty_id="penalty-1",
            amount=t.pick(amounts),
            currency=currency,
            basis=basis,
            payable_by=payable,
            notice_id=notice_id,
            penalty_kind=penalty_kind,
        )
    )
    t.expect("penalty_payable-penalty-1", payable)
    return payable


def suspend_payment(t: Timeline) -> None:
    t.add(
        DeadlineCancelled(
            occurred_on=t.day,
            deadline_id="penalty_payable-penalty-1",
            reason="Payment suspended pending the appeal",
        )
    )
    t.done("penalty_payable-penalty-1")


def settle(t: Timeline, payable: date, against: str, forum: str, outcome: str) -> None:
    """Appeal the decision, or pay the penalty and close the case."""
    if t.chance(0.15):
        window = t.pending.get(f"appeal_window-{against}")
        day = t.by(window[0]) if window else t.later(3, 25)
        t.add(AppealLodged(occurred_on=day, appeal_id="appeal-1", against=against, forum=forum))
        t.done(f"appeal_window-{against}")  # the appeal meets it
        suspend_payment(t)
        raise Stop
    paid = t.answer(
        "penalty_payable-penalty-1",
        payable,
        lambda day: PenaltyPaid(occurred_on=day, penalty_id="penalty-1"),
        met=0.75,
    )
    if not paid:
        raise Stop
    t.add(InvestigationClosed(occurred_on=t.later(7, 40), outcome=outcome))
    t.close("Penalty paid; investigation closed")
