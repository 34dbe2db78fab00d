"""What every rule of ``decide`` needs: the regime, today, and a way to refuse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from casemgmt.domain.calendar.calendars import BusinessCalendar
from casemgmt.domain.errors import RuleViolation
from casemgmt.domain.events import CaseOpened, NoticeIssued, PenaltyImposed, ResponseSent
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import DeadlineRule, Regime

__all__ = ["Context", "basis_day", "next_id", "notice_kind_of", "rule_due", "stated_due"]


@dataclass(frozen=True, slots=True)
class Context:
    """One call of ``decide``: ``label`` is ``"<regulator>/<regime>"`` for messages."""

    regime: Regime
    label: str
    today: date

    def refuse(self, rule: str, reason: str, field: str | None = None) -> RuleViolation:
        """The violation to raise: ``raise ctx.refuse("unknown_deadline", "...")``."""
        return RuleViolation(self.label, rule, reason, field)

    def calendar(self, name: str | None = None) -> BusinessCalendar:
        return self.regime.business_calendar(name)


def notice_kind_of(event: Event) -> str | None:
    """The notice kind of a ``notice_issued`` event, else None."""
    return event.notice_kind if isinstance(event, NoticeIssued) else None


def basis_day(event: Event) -> date:
    """The day a period triggered by ``event`` runs from (an FOI request: its receipt)."""
    if isinstance(event, CaseOpened):
        return event.received_on or event.opened_on
    return event.occurred_on


def stated_due(event: Event, rule: DeadlineRule, ctx: Context) -> date | None:
    """The due date ``event`` states for a ``period = "stated"`` rule, if it states one.

    A stated date is taken as it is; a stated period runs from the event's day on the
    rule's calendar, rolled forward if the rule says so.
    """
    match event:
        case NoticeIssued(respond_by=date() as day) | ResponseSent(review_by=date() as day):
            return day
        case NoticeIssued(period=period) | ResponseSent(review_window=period) if period:
            cal = ctx.calendar(rule.calendar)
            return cal.add(
                event.occurred_on, period.amount, period.unit, roll_forward=rule.roll_forward
            )
        case PenaltyImposed(payable_by=day):
            return day
        case _:
            return None


def rule_due(
    rule: DeadlineRule, event: Event, ctx: Context, *, as_stated: bool = True
) -> date | None:
    """The due date ``rule`` gives the deadline ``event`` sets (None: the event states none).

    With ``as_stated``, a date the event gives in the rule's ``stated_by`` field wins over
    the computation (an appellant's own reckoning of an appeal window).
    """
    given = getattr(event, rule.stated_by, None) if rule.stated_by and as_stated else None
    if isinstance(given, date):
        return given
    if rule.period == "stated":
        return stated_due(event, rule, ctx)
    # a statutory rule has amount and unit: checked when the file was loaded
    assert rule.amount is not None
    assert rule.unit is not None
    cal = ctx.calendar(rule.calendar)
    return cal.add(
        basis_day(event),
        rule.amount,
        rule.unit,
        inclusive=rule.inclusive,
        roll_forward=rule.roll_forward,
    )


def next_id(prefix: str, taken: Iterable[str]) -> str:
    """``prefix`` if free, else ``prefix-2``, ``prefix-3``..."""
    used = set(taken)
    if prefix not in used:
        return prefix
    n = 2
    while f"{prefix}-{n}" in used:
        n += 1
    return f"{prefix}-{n}"
