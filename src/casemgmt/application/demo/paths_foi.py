"""How a synthetic FOI request may unfold (FOI Act 2000, REFERENCE.md §4).

The request's ``response_due`` (20 working days on the ``uk-foi`` calendar) is derived by
the regime when the case opens; the path computes the same date to time the answer.
"""

from __future__ import annotations

from typing import Literal

from casemgmt.application.demo.timeline import Stop, Timeline
from casemgmt.domain.calendar.calendars import add_months, get_calendar
from casemgmt.domain.events import (
    ClarificationReceived,
    ClarificationRequested,
    InternalReviewCompleted,
    InternalReviewRequested,
    PublicInterestExtension,
    RegulatorComplaintLodged,
    ResponseSent,
)
from casemgmt.domain.events.fields import Period

__all__ = ["foi"]

Outcome = Literal["provided", "partly_provided", "refused", "neither_confirm_nor_deny", "not_held"]
ReviewOutcome = Literal["upheld", "reversed", "modified"]

_OUTCOMES: tuple[tuple[Outcome, float], ...] = (
    ("provided", 0.35),
    ("partly_provided", 0.3),
    ("refused", 0.2),
    ("not_held", 0.1),
    ("neither_confirm_nor_deny", 0.05),
)
_EXEMPTIONS = ("s40(2)", "s43(2)", "s44(1)", "s31(1)(g)", "s36(2)(b)(i)", "s21")
_REVIEW_OUTCOMES: tuple[ReviewOutcome, ...] = ("upheld", "upheld", "modified", "reversed")


def _outcome(t: Timeline) -> Outcome:
    draw = t.rng.random()
    for outcome, weight in _OUTCOMES:
        if draw < weight:
            return outcome
        draw -= weight
    return _OUTCOMES[0][0]


def foi(t: Timeline) -> None:
    """Received on the case's first day; answered on time, late, or not yet."""
    calendar = get_calendar("uk-foi")
    due = calendar.add(t.day, 20, "working_days")
    t.expect("response_due", due)
    if t.chance(0.08):
        t.add(ClarificationRequested(occurred_on=t.later(1, 5), summary="Which years?"))
        t.done("response_due")  # paused until the clarification arrives
        t.add(ClarificationReceived(occurred_on=t.later(2, 15)))
        due = calendar.add(t.day, 20, "working_days")
        t.expect("response_due", due)
    if t.chance(0.1):
        extended_to = calendar.add(due, t.rng.randint(10, 20), "working_days")
        t.add(
            PublicInterestExtension(
                occurred_on=t.by(due),
                extended_to=extended_to,
                exemptions=[t.pick(("s43(2)", "s31(1)(g)", "s36(2)(b)(i)"))],
                reason="Considering the public interest test",
            )
        )
        due = extended_to
        t.expect("response_due", due)
    draw = t.rng.random()
    if draw < 0.8:
        t.by(due)
    elif draw < 0.92:
        t.after(due, 1, 15)  # answered late
    else:
        raise Stop  # not answered yet
    _respond(t)


def _respond(t: Timeline) -> None:
    """The answer, today; then an internal review, or the case closes after the window."""
    outcome = _outcome(t)
    exemptions = [] if outcome in ("provided", "not_held") else [t.pick(_EXEMPTIONS)]
    months = t.chance(0.5)
    window_end = (
        add_months(t.day, 2) if months else get_calendar("uk-foi").add(t.day, 40, "working_days")
    )
    t.add(
        ResponseSent(
            occurred_on=t.day,
            outcome=outcome,
            exemptions=exemptions,
            review_window=Period(amount=2, unit="months") if months else None,
            review_by=None if months else window_end,
        )
    )
    t.done("response_due")
    t.expect("internal_review_window", window_end)
    if outcome != "provided" and t.chance(0.3):
        _review(t)
        return
    t.after(window_end, 1, 14)
    t.close("Internal review window ended")


def _review(t: Timeline) -> None:
    """The requester asks for a review within the window (at least two months)."""
    t.add(InternalReviewRequested(occurred_on=t.later(3, 30)))
    t.done("internal_review_window")
    due = get_calendar("uk-foi").add(t.day, 20, "working_days")
    completed = t.answer(
        "internal_review_due",
        due,
        lambda day: InternalReviewCompleted(occurred_on=day, outcome=t.pick(_REVIEW_OUTCOMES)),
        met=0.85,
    )
    if not completed:
        raise Stop
    if t.chance(0.3):
        t.add(RegulatorComplaintLodged(occurred_on=t.later(10, 60)))
        raise Stop
    t.later(7, 30)
    t.close("Internal review completed")
