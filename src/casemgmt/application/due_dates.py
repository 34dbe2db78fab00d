"""Deadline arithmetic as a service: the API's ``POST /v1/calendar/due-date``, the CLI's
``casemgmt due-date`` and the dashboard's what-if page all answer through ``due_date``.

Either a regime rule and a trigger day (the rule's own counting, calendar, roll-forward,
end time and minimum; a stated rule needs the stated ``amount`` and ``unit``), or a
calendar, amount and unit with the counting convention. The answer carries the
explanation the deadline itself would carry: the same domain code computes both.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from casemgmt.application.errors import ValidationFailed
from casemgmt.domain.calendar.calendars import (
    CALENDAR_NAMES,
    BusinessCalendar,
    Counting,
    HolidayYear,
    Unit,
    get_calendar,
)
from casemgmt.domain.calendar.deadlines import due_instant
from casemgmt.domain.calendar.explain import Explanation, explain_period
from casemgmt.domain.decide.explaining import explain_count
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.events.fields import Period
from casemgmt.domain.regime.model import DeadlineRule, Regime
from casemgmt.domain.regime.registry import RegimeRegistry

__all__ = ["DueDateAnswer", "DueDateQuery", "due_date", "rule_choices"]


class DueDateQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What to count: ``rule`` (+ ``regulator``/``regime`` to disambiguate) or ``calendar``
    with ``amount`` and ``unit``; ``start`` is the trigger day."""

    start: date
    rule: str | None = None
    regulator: str | None = None
    regime: str | None = None
    calendar: str | None = None
    amount: int | None = None
    unit: Unit | None = None
    counting: Counting = "after"
    roll_forward: bool = False
    min_working_days: int = 0
    ends_at: str | None = None


class DueDateAnswer(msgspec.Struct, frozen=True, kw_only=True):
    due_on: date
    due_at: datetime
    calendar: str
    start: date
    amount: int
    unit: str
    counting: str
    due_is_working_day: bool
    holidays_source: str
    calendar_years: list[dict[str, Any]]
    explanation: Explanation
    rule: str | None = None
    regime: str | None = None


def rule_choices(registry: RegimeRegistry) -> list[tuple[str, str]]:
    """``[(value, label)]`` of every deadline rule, ``value`` = ``regulator/regime/rule``."""
    return [
        (f"{r.regulator}/{r.code}/{rule.id}", f"{r.label()} — {rule.label}")
        for r in registry.all()
        for rule in r.deadline_rules
    ]


def due_date(registry: RegimeRegistry, q: DueDateQuery) -> DueDateAnswer:
    """The due date of ``q`` with its explanation.

    Raises ``ValidationFailed`` naming the field for an unknown rule, regime or calendar
    or a missing amount, and ``CalendarYearUnavailable`` for a year with no holiday list.
    """
    if q.rule:
        return _by_rule(registry, q)
    return _by_calendar(registry, q)


def _find_rule(registry: RegimeRegistry, q: DueDateQuery) -> tuple[Regime, DeadlineRule]:
    if q.regulator and q.regime:
        try:
            regimes = [registry.get(q.regulator, q.regime)]
        except UnknownRegime as exc:
            raise ValidationFailed(str(exc), field="regime") from exc
    else:
        regimes = list(registry.all())
    found = [(r, x) for r in regimes for x in r.deadline_rules if x.id == q.rule]
    if not found:
        raise ValidationFailed(f"no deadline rule {q.rule!r}", field="rule")
    if len(found) > 1:
        raise ValidationFailed(f"rule {q.rule!r} is in several regimes: name one", field="regime")
    return found[0]


def _by_rule(registry: RegimeRegistry, q: DueDateQuery) -> DueDateAnswer:
    regime, rule = _find_rule(registry, q)
    stated = None
    if rule.period == "stated":
        if q.amount is None or q.unit is None or q.amount < 1:
            raise ValidationFailed(
                f"{rule.id} leaves the period to the notice: give the stated amount and unit",
                field="amount",
            )
        stated = regime.count(rule, q.start, Period(amount=q.amount, unit=q.unit))
    what = f"{rule.on.replace('_', ' ')}" + (f" ({rule.notice_kind})" if rule.notice_kind else "")
    why = explain_count(regime, rule, q.start, what, stated)
    cal = regime.business_calendar(rule.calendar)
    counted = stated or regime.count(rule, q.start)
    return DueDateAnswer(
        due_on=why.due_on,
        due_at=due_instant(why.due_on, regime.timezone, rule.ends_at),
        calendar=cal.name,
        start=q.start,
        amount=counted.amount,
        unit=counted.unit,
        counting=rule.counting,
        due_is_working_day=cal.is_working_day(why.due_on),
        holidays_source=_source(cal.name, [regime]),
        calendar_years=cal.years_known(),
        explanation=why,
        rule=rule.id,
        regime=regime.label(),
    )


def _by_calendar(registry: RegimeRegistry, q: DueDateQuery) -> DueDateAnswer:
    if q.calendar not in CALENDAR_NAMES:
        known = ", ".join(sorted(CALENDAR_NAMES))
        raise ValidationFailed(f"give a rule, or a calendar (known: {known})", field="calendar")
    if q.amount is None or q.unit is None:
        raise ValidationFailed("a calendar count needs amount and unit", field="amount")
    users = _users(registry, q)
    cal = _calendar(q.calendar, users)
    p = cal.period(
        q.start,
        q.amount,
        q.unit,
        counting=q.counting,
        roll_forward=q.roll_forward,
        min_working_days=q.min_working_days,
    )
    tz = users[0].timezone if users else "Europe/London"
    why = explain_period(
        cal,
        p,
        trigger="trigger",
        rule=None,
        citation=None,
        roll_forward=q.roll_forward,
        ends_at=q.ends_at,
        timezone=tz,
    )
    return DueDateAnswer(
        due_on=p.due_on,
        due_at=due_instant(p.due_on, tz, q.ends_at),
        calendar=cal.name,
        start=q.start,
        amount=q.amount,
        unit=q.unit,
        counting=q.counting,
        due_is_working_day=cal.is_working_day(p.due_on),
        holidays_source=_source(cal.name, users),
        calendar_years=cal.years_known(),
        explanation=why,
    )


def _users(registry: RegimeRegistry, q: DueDateQuery) -> list[Regime]:
    """The regimes whose dated holidays the calendar uses (the named one, else all)."""
    if q.regulator and q.regime:
        try:
            return [registry.get(q.regulator, q.regime)]
        except UnknownRegime as exc:
            raise ValidationFailed(str(exc), field="regime") from exc
    return [r for r in registry.all() if r.calendar == q.calendar]


def _calendar(name: str, users: list[Regime]) -> BusinessCalendar:
    years: dict[int, HolidayYear] = {}
    for r in users:
        for y in r.holiday_years:
            years.setdefault(y.year, y)
    return get_calendar(name, years.values())


def _source(name: str, users: list[Regime]) -> str:
    dated = [f"{r.regulator}/{r.code}" for r in users if r.holiday_years]
    if name == "calendar-days":
        return "none (every day counts)"
    if dated:
        return "regime data: " + ", ".join(dated)
    return "holidays package (GB bank holidays)"
