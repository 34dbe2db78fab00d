"""Semantic checks of a parsed regime: every name it uses must mean something.

Each failed check raises ``RegimeFileError`` with the file, the key path and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from casemgmt.domain.calendar.calendars import CALENDAR_NAMES
from casemgmt.domain.errors import RegimeFileError
from casemgmt.domain.events import DERIVED_ONLY, EVENT_TYPES
from casemgmt.domain.regime.model import DeadlineRule, PenaltyCap, Regime

__all__ = ["EXTENSION_EVENTS", "STATED_DATE_EVENTS", "check_regime"]

# Event types that can state a date or period of their own (``period = "stated"`` rules).
STATED_DATE_EVENTS = frozenset({"notice_issued", "penalty_imposed", "response_sent"})
# Event types that state the new date of a statutory deadline (``[[extensions]]``).
EXTENSION_EVENTS = frozenset({"public_interest_extension", "extension_agreed"})


class _Checker:
    def __init__(self, regime: Regime) -> None:
        self.regime = regime
        self.stages = {s.code for s in regime.stages}
        self.notices = {n.code for n in regime.notice_kinds}
        self.kinds = set(regime.rule_kinds())

    def fail(self, key: str, reason: str) -> None:
        raise RegimeFileError(self.regime.source, key, reason)

    def event(self, key: str, name: str) -> None:
        if name not in EVENT_TYPES:
            self.fail(key, f"unknown event type {name!r}")
        if name in DERIVED_ONLY:
            self.fail(key, f"{name!r} is derived by the system and cannot be an action")

    def events(self, key: str, names: Iterable[str]) -> None:
        for i, name in enumerate(names):
            self.event(f"{key}[{i}]", name)

    def stage(self, key: str, code: str) -> None:
        if code not in self.stages:
            self.fail(key, f"unknown stage {code!r}")

    def notice(self, key: str, code: str | None, on: str | None = None) -> None:
        if code is None:
            return
        if code not in self.notices:
            self.fail(key, f"unknown notice kind {code!r}")
        if on is not None and on != "notice_issued":
            self.fail(key, f"notice_kind needs on = 'notice_issued', not {on!r}")

    def calendar(self, key: str, name: str | None) -> None:
        if name is not None and name not in CALENDAR_NAMES:
            self.fail(key, f"unknown calendar {name!r}; known: {', '.join(sorted(CALENDAR_NAMES))}")

    def kind(self, key: str, kind: str) -> None:
        if kind not in self.kinds:
            self.fail(key, f"no deadline rule produces deadline kind {kind!r}")

    def unique(self, key: str, codes: list[str]) -> None:
        seen: set[str] = set()
        for i, code in enumerate(codes):
            if code in seen:
                self.fail(f"{key}[{i}]", f"duplicate {code!r}")
            seen.add(code)


def _check_header(c: _Checker, r: Regime) -> None:
    try:
        ZoneInfo(r.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("timezone", f"unknown time zone {r.timezone!r}")
    c.calendar("calendar", r.calendar)
    c.stage("initial_stage", r.initial_stage)
    c.unique("stages", [s.code for s in r.stages])
    for i, s in enumerate(r.stages):
        c.events(f"stages[{i}].allows", s.allows)
    c.events("always_allowed", r.always_allowed)
    for i, t in enumerate(r.transitions):
        c.event(f"transitions[{i}].on", t.on)
        c.stage(f"transitions[{i}].to", t.to)
        for j, code in enumerate(t.from_):
            c.stage(f"transitions[{i}].from[{j}]", code)
        c.notice(f"transitions[{i}].notice_kind", t.notice_kind, t.on)


def _check_notices(c: _Checker, r: Regime) -> None:
    c.unique("notice_kinds", [n.code for n in r.notice_kinds])
    for i, n in enumerate(r.notice_kinds):
        for j, p in enumerate(n.requires):
            c.notice(f"notice_kinds[{i}].requires[{j}].notice_kind", p.notice_kind)
            if p.deadline_kind is not None:
                c.kind(f"notice_kinds[{i}].requires[{j}].deadline_kind", p.deadline_kind)


def _check_deadline_rule(c: _Checker, key: str, rule: DeadlineRule) -> None:
    c.event(f"{key}.on", rule.on)
    if rule.kind not in c.regime.deadline_kinds:
        c.fail(
            f"{key}.kind",
            f"deadline kind {rule.kind!r} is not declared in [deadline_kinds] "
            "(every kind names its party and whether it is a duty or a window)",
        )
    c.notice(f"{key}.notice_kind", rule.notice_kind, rule.on)
    c.calendar(f"{key}.calendar", rule.calendar)
    if rule.period == "statutory" and (rule.amount is None or rule.unit is None):
        c.fail(key, "a statutory period needs amount and unit")
    if rule.period == "stated" and rule.on not in STATED_DATE_EVENTS:
        c.fail(
            f"{key}.on",
            f"{rule.on!r} states no date; stated periods come from "
            f"{', '.join(sorted(STATED_DATE_EVENTS))}",
        )
    if rule.minimum is not None:
        c.calendar(f"{key}.minimum.calendar", rule.minimum.calendar)
    if rule.limit is not None and rule.unit is None:
        c.fail(f"{key}.limit", "a limit needs the rule's unit")
    m = rule.minimum
    if m is not None and (m.amount is None) != (m.unit is None):
        c.fail(f"{key}.minimum", "a minimum states amount and unit together")
    if m is not None and m.not_before is not None:
        c.kind(f"{key}.minimum.not_before", m.not_before)
    if rule.stated_by is not None and rule.on != "notice_issued":
        c.fail(f"{key}.stated_by", "only a notice_issued event states a date of its own")


def _check_rules(c: _Checker, r: Regime) -> None:
    ids = [x.id for x in r.deadline_rules] + [x.id for x in r.meets]
    ids += [x.id for x in r.clock_stops] + [x.id for x in r.extensions]
    ids += [x.id for x in r.penalty_caps] + [p.id for n in r.notice_kinds for p in n.requires]
    ids += [x.id for x in r.when_overdue]
    c.unique("rule ids", ids)
    for i, rule in enumerate(r.deadline_rules):
        _check_deadline_rule(c, f"deadline_rules[{i}]", rule)
    for i, m in enumerate(r.meets):
        c.event(f"meets[{i}].on", m.on)
        c.notice(f"meets[{i}].notice_kind", m.notice_kind, m.on)
        c.kind(f"meets[{i}].kind", m.kind)
    for i, s in enumerate(r.clock_stops):
        c.event(f"clock_stops[{i}].stop_on", s.stop_on)
        c.event(f"clock_stops[{i}].resume_on", s.resume_on)
        c.kind(f"clock_stops[{i}].kind", s.kind)
        if s.resume == "restart" and (s.amount is None or s.unit is None):
            c.fail(f"clock_stops[{i}]", "a restart needs amount and unit")
    for i, x in enumerate(r.extensions):
        c.event(f"extensions[{i}].on", x.on)
        c.kind(f"extensions[{i}].kind", x.kind)
        if x.on not in EXTENSION_EVENTS:
            c.fail(
                f"extensions[{i}].on",
                f"only {', '.join(sorted(EXTENSION_EVENTS))} state an extension",
            )
    for i, s in enumerate(r.clock_stops):
        if s.lapse_kind is not None:
            c.kind(f"clock_stops[{i}].lapse_kind", s.lapse_kind)
    for i, w in enumerate(r.when_overdue):
        c.event(f"when_overdue[{i}].on", w.on)
        c.kind(f"when_overdue[{i}].kind", w.kind)
        for j, code in enumerate(w.stages):
            c.stage(f"when_overdue[{i}].stages[{j}]", code)


def _check_penalties(c: _Checker, r: Regime) -> None:
    for i, cap in enumerate(r.penalty_caps):
        _check_cap(c, f"penalty_caps[{i}]", cap)
    if r.penalty_caps and r.penalty_currency is None:
        c.fail("penalty_currency", "penalty caps need the currency penalties are imposed in")


def _check_cap(c: _Checker, key: str, cap: PenaltyCap) -> None:
    if cap.fixed is None and cap.percent is None:
        c.fail(key, "a cap needs fixed, percent or both")
    if cap.percent is not None and not cap.measure:
        c.fail(f"{key}.measure", "a percentage cap needs the measure it is a percentage of")
    for name, value in (("fixed", cap.fixed), ("percent", cap.percent)):
        if value is not None and value <= 0:
            c.fail(f"{key}.{name}", "must be positive")


def check_regime(regime: Regime) -> None:
    """Raise ``RegimeFileError`` at the first name the regime uses but does not define."""
    checker = _Checker(regime)
    _check_header(checker, regime)
    _check_notices(checker, regime)
    _check_rules(checker, regime)
    _check_penalties(checker, regime)
    for kind in regime.reminders.by_kind:
        if not kind:
            checker.fail("reminders.by_kind", "empty deadline kind")
