"""Statutory deadlines cannot be bent: the checks on the events that move them.

A deadline whose rule is ``fixed`` moves only through the regime's clock stops and
extensions of its kind, each within its limits (REFERENCE §2, §4): a plain
``deadline_extended`` is refused with the deadline rule's id; a clock stop after the due
day does not stop a clock that has run out; a paused clock resumes only within its lapse
period; extensions under one rule are capped in total, unless exceptional.
"""

from __future__ import annotations

from casemgmt.domain.decide.context import Context
from casemgmt.domain.events import (
    DeadlineCancelled,
    DeadlineExtended,
    ExtensionAgreed,
    PublicInterestExtension,
)
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import ClockStopRule, ExtensionRule
from casemgmt.domain.state.model import CaseState, DeadlineState

__all__ = [
    "check_clock_events",
    "check_extension_request",
    "check_fixed",
    "extension_targets",
    "overdue_allows",
]

Extension = PublicInterestExtension | ExtensionAgreed


def check_fixed(d: DeadlineState, a: DeadlineExtended | DeadlineCancelled, ctx: Context) -> None:
    """Refuse a plain extension or cancellation of a deadline the law fixes, naming its
    rule: only the statute's events move it, and it ends when met or when the case closes
    (a withdrawn request), never by waiving it."""
    rule = ctx.regime.deadline_rule(d.rule)
    if rule is None or not rule.fixed:
        return
    if isinstance(a, DeadlineCancelled):
        raise ctx.refuse(
            rule.id,
            f"{d.deadline_id} is a statutory deadline ({rule.label}): it cannot be cancelled "
            f"by hand; it is met, or ends when the case is closed",
            "deadline_id",
        )
    movers = _statutory_movers(d.kind, ctx)
    raise ctx.refuse(
        rule.id,
        f"{d.deadline_id} is a statutory deadline ({rule.label}): a plain deadline_extended "
        f"cannot move it; only {', '.join(movers) or 'no event'} can",
        "deadline_id",
    )


def _statutory_movers(kind: str, ctx: Context) -> list[str]:
    names = [x.on for x in ctx.regime.extensions if x.kind == kind]
    for stop in (c for c in ctx.regime.clock_stops if c.kind == kind):
        names += [stop.stop_on, stop.resume_on]
    return list(dict.fromkeys(names))


def check_clock_events(s: CaseState, a: Event, ctx: Context) -> None:
    """A stop after the due day (``late = "refuse"``) and a resume after the lapse are refused."""
    tag = a.type_tag()
    for rule in ctx.regime.clock_stops:
        if rule.stop_on == tag and rule.late == "refuse":
            _refuse_late_stop(s, a, rule, ctx)
        if rule.resume_on == tag and rule.lapse_kind is not None:
            _refuse_lapsed_resume(s, a, rule, ctx)


def _refuse_late_stop(s: CaseState, a: Event, rule: ClockStopRule, ctx: Context) -> None:
    for d in s.deadlines:
        if d.kind != rule.kind or d.status not in ("open", "missed"):
            continue
        if d.status == "missed" or a.occurred_on > d.due_on:
            raise ctx.refuse(
                rule.id,
                f"{a.type_tag()} must come within the {d.kind} period (by {d.due_on}), not on "
                f"{a.occurred_on}: the period has run out",
                "occurred_on",
            )


def _refuse_lapsed_resume(s: CaseState, a: Event, rule: ClockStopRule, ctx: Context) -> None:
    for d in s.deadlines:
        if (
            d.kind == rule.lapse_kind
            and d.status not in ("met", "met_late")
            and a.occurred_on > d.due_on
        ):
            raise ctx.refuse(
                d.rule or rule.id,
                f"{a.type_tag()} on {a.occurred_on} is after {d.due_on}, the end of "
                f"{d.kind}: the {rule.kind} clock lapsed ({d.label})",
                "occurred_on",
            )


def extension_targets(s: CaseState, a: Extension, rule: ExtensionRule) -> list[DeadlineState]:
    """The open deadlines ``a`` extends under ``rule``."""
    return [
        d
        for d in s.deadlines
        if d.kind == rule.kind
        and d.status == "open"
        and (not isinstance(a, ExtensionAgreed) or d.deadline_id == a.deadline_id)
    ]


def check_extension_request(s: CaseState, a: Extension, ctx: Context) -> None:
    """Each extension rule moves an open, not yet passed deadline, within its total cap."""
    rules = [x for x in ctx.regime.extensions if x.on == a.type_tag()]
    if not rules:
        raise ctx.refuse("extension_not_allowed", f"{ctx.regime.code} has no {a.type_tag()}")
    for rule in rules:
        targets = extension_targets(s, a, rule)
        if not targets:
            what = getattr(a, "deadline_id", None) or rule.kind
            raise ctx.refuse(rule.id, f"there is no open {what} deadline to extend")
        for d in targets:
            _check_one_extension(d, a, rule, ctx)


def _check_one_extension(d: DeadlineState, a: Extension, rule: ExtensionRule, ctx: Context) -> None:
    if a.occurred_on > d.due_on:
        raise ctx.refuse(rule.id, f"{rule.kind} passed on {d.due_on}; it can no longer be extended")
    if a.extended_to <= d.due_on:
        raise ctx.refuse(rule.id, f"{a.extended_to} is not after {d.due_on}", "extended_to")
    if rule.max_amount is None or getattr(a, "exceptional", False):
        return
    cal = ctx.calendar()
    used = sum(
        cal.working_days_between(h.from_due_on, h.to_due_on) if rule.unit == "working_days"
        else (h.to_due_on - h.from_due_on).days
        for h in d.history
        if h.rule == rule.id
    )  # fmt: skip
    cap = cal.add(d.due_on, max(rule.max_amount - used, 0), rule.unit)
    if a.extended_to > cap:
        raise ctx.refuse(
            rule.id,
            f"{a.type_tag()} to {a.extended_to} goes beyond {cap}: {rule.kind} may be extended "
            f"by {rule.max_amount} {rule.unit} in total ({used} used before, from {d.due_on}); "
            f"set exceptional = true to go further",
            "extended_to",
        )


def overdue_allows(s: CaseState, a: Event, ctx: Context) -> bool:
    """True when a ``when_overdue`` rule allows ``a`` in the case's stage; refuses when
    such a rule covers the stage but its deadline is not overdue yet."""
    tag = a.type_tag()
    for rule in ctx.regime.when_overdue:
        if rule.on != tag or s.stage not in rule.stages:
            continue
        kinds = [d for d in s.deadlines if d.kind == rule.kind]
        if any(
            d.status == "missed" or (d.status == "open" and d.due_on < a.occurred_on) for d in kinds
        ):
            return True
        due = ", ".join(str(d.due_on) for d in kinds if d.active) or "none open"
        raise ctx.refuse(
            rule.id,
            f"{tag} is allowed in stage {s.stage!r} only once {rule.kind} is overdue (due: {due})",
            "occurred_on",
        )
    return False
