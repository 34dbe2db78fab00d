"""What every rule of ``decide`` needs: the regime, today, and a way to refuse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from casemgmt.domain.calendar.calendars import BusinessCalendar, PeriodEnd
from casemgmt.domain.errors import RuleViolation
from casemgmt.domain.events import CaseOpened, NoticeIssued, PenaltyImposed, ResponseSent
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import DeadlineRule, MeetsRule, Regime, Transition

__all__ = [
    "Context",
    "RulesByTrigger",
    "basis_day",
    "by_trigger",
    "next_id",
    "notice_kind_of",
    "rule_due",
    "stated_due",
    "stated_period",
]


@dataclass(frozen=True, slots=True)
class Context:
    """One call of ``decide``: ``label`` is ``"<regulator>/<regime>"`` for messages,
    ``actor`` who proposes the action (named in explanations of deadlines set by hand)."""

    regime: Regime
    label: str
    today: date
    actor: str | None = None

    def refuse(self, rule: str, reason: str, field: str | None = None) -> RuleViolation:
        """The violation to raise: ``raise ctx.refuse("unknown_deadline", "...")``."""
        return RuleViolation(self.label, rule, reason, field)

    def calendar(self, name: str | None = None) -> BusinessCalendar:
        return self.regime.business_calendar(name)

    @property
    def rules(self) -> RulesByTrigger:
        """The regime's rules by the event type that triggers them (built once per regime)."""
        return by_trigger(self.regime)


@dataclass(frozen=True, slots=True)
class RulesByTrigger:
    """A regime's deadline rules, meets rules and stage transitions grouped by the event
    type they fire on, each group in file order: ``decide`` looks up the few rules of the
    action's type instead of testing every rule of the regime on every event."""

    deadline_rules: dict[str, tuple[DeadlineRule, ...]]
    meets: dict[str, tuple[MeetsRule, ...]]
    transitions: dict[str, tuple[Transition, ...]]


_R = TypeVar("_R", DeadlineRule, MeetsRule, Transition)
_BY_TRIGGER: dict[int, tuple[Regime, RulesByTrigger]] = {}
_BY_TRIGGER_MAX = 64


def by_trigger(regime: Regime) -> RulesByTrigger:
    """``regime``'s ``RulesByTrigger``, cached by identity (a regime is immutable; the
    entry holds the regime, so its id is not reused while cached)."""
    hit = _BY_TRIGGER.get(id(regime))
    if hit is not None and hit[0] is regime:
        return hit[1]
    index = RulesByTrigger(
        deadline_rules=_group(regime.deadline_rules),
        meets=_group(regime.meets),
        transitions=_group(regime.transitions),
    )
    if len(_BY_TRIGGER) >= _BY_TRIGGER_MAX:
        _BY_TRIGGER.clear()
    _BY_TRIGGER[id(regime)] = (regime, index)
    return index


def _group(rules: Iterable[_R]) -> dict[str, tuple[_R, ...]]:
    grouped: dict[str, list[_R]] = {}
    for rule in rules:
        grouped.setdefault(rule.on, []).append(rule)
    return {tag: tuple(found) for tag, found in grouped.items()}


def notice_kind_of(event: Event) -> str | None:
    """The notice kind of a ``notice_issued`` event, else None."""
    return event.notice_kind if isinstance(event, NoticeIssued) else None


def basis_day(event: Event) -> date:
    """The day a period triggered by ``event`` runs from (an FOI request: its receipt)."""
    if isinstance(event, CaseOpened):
        return event.received_on or event.opened_on
    return event.occurred_on


def stated_due(event: Event, rule: DeadlineRule, ctx: Context) -> date | None:
    """The due date ``event`` states for a ``period = "stated"`` rule, if it states one."""
    stated = stated_period(event, rule, ctx)
    return stated if isinstance(stated, date | None) else stated.due_on


def stated_period(event: Event, rule: DeadlineRule, ctx: Context) -> date | PeriodEnd | None:
    """What ``event`` states for a ``period = "stated"`` rule: a date, taken as it is; or
    a period, counted from the event's day as the rule counts (``counting``, roll-forward,
    ``min_working_days``) on the rule's calendar; or nothing."""
    match event:
        case NoticeIssued(respond_by=date() as day) | ResponseSent(review_by=date() as day):
            return day
        case NoticeIssued(period=period) | ResponseSent(review_window=period) if period:
            return ctx.regime.count(rule, event.occurred_on, period)
        case PenaltyImposed(payable_by=day):
            return day
        case _:
            return None


def rule_due(
    rule: DeadlineRule, event: Event, ctx: Context, *, as_stated: bool = True
) -> date | None:
    """The due date ``rule`` gives the deadline ``event`` sets (None: the event states none).

    With ``as_stated``, a date the event gives in the rule's ``stated_by`` field wins over
    the computation (an appellant's own reckoning of an appeal window). Counted by the
    rule's own convention (``Regime.count``), as its explanation is.
    """
    given = getattr(event, rule.stated_by, None) if rule.stated_by and as_stated else None
    if isinstance(given, date):
        return given
    if rule.period == "stated":
        return stated_due(event, rule, ctx)
    return ctx.regime.count(rule, basis_day(event)).due_on


def next_id(prefix: str, taken: Iterable[str]) -> str:
    """``prefix`` if free, else ``prefix-2``, ``prefix-3``..."""
    used = set(taken)
    if prefix not in used:
        return prefix
    n = 2
    while f"{prefix}-{n}" in used:
        n += 1
    return f"{prefix}-{n}"
