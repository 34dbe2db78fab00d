"""Periods the law leaves to the regulator: the notice must state one, and long enough.

A ``period = "stated"`` rule with ``required`` refuses an event stating no date or period;
its ``minimum`` refuses one too short (an amount of units from the event's day, or from
the day of the notice the event names; or not before another deadline the same event
sets), unless the event carries the waiving flag (``urgent``). Refusals name the rule.
"""

from __future__ import annotations

from datetime import date

from casemgmt.domain.decide.context import Context, notice_kind_of, rule_due, stated_due
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import DeadlineRule, Minimum
from casemgmt.domain.state.model import CaseState

__all__ = ["check_stated_periods", "stated_field"]


def stated_field(a: Event) -> str:
    """The field of ``a`` that states its date or period, for error messages."""
    for name in ("respond_by", "payable_by", "review_by", "period", "review_window"):
        if getattr(a, name, None) is not None:
            return name
    return {"penalty_imposed": "payable_by", "response_sent": "review_by"}.get(
        a.type_tag(), "respond_by"
    )


def check_stated_periods(s: CaseState | None, a: Event, ctx: Context) -> None:
    """Where the law leaves the period to the notice, the notice states one, long enough."""
    for rule in ctx.rules.deadline_rules.get(a.type_tag(), ()):
        if rule.period != "stated":
            continue
        if rule.notice_kind is not None and rule.notice_kind != notice_kind_of(a):
            continue
        due = stated_due(a, rule, ctx)
        what = rule.notice_kind or a.type_tag()
        if due is None and rule.required:
            raise ctx.refuse(
                rule.id,
                f"{what} must state respond_by or a period: the law leaves the {rule.kind} "
                f"period to the notice",
                stated_field(a),
            )
        m = rule.minimum
        if due is not None and m is not None and not (m.unless and getattr(a, m.unless, False)):
            _check_minimum(s, a, rule, m, due, ctx)


def _check_minimum(
    s: CaseState | None, a: Event, rule: DeadlineRule, m: Minimum, due: date, ctx: Context
) -> None:
    what = rule.notice_kind or a.type_tag()
    if m.amount is not None and m.unit is not None:
        start = _counted_from(s, a, m)
        lawful = ctx.regime.earliest_lawful(rule, start)
        earliest = lawful.due_on if lawful is not None else start
        if due < earliest:
            counted = "beginning with" if m.inclusive else "after"
            raise ctx.refuse(
                rule.id,
                f"{what} must allow at least {m.amount} {m.unit} {counted} {start} "
                f"for {rule.kind} (on or after {earliest}), not {due}",
                stated_field(a),
            )
    if m.not_before is not None:
        bound = _other_deadline(a, rule, m.not_before, ctx)
        if bound is not None and due < bound:
            waiver = f" unless it says it is {m.unless}" if m.unless else ""
            raise ctx.refuse(
                rule.id,
                f"{what}'s {rule.kind} ({due}) may not end before its {m.not_before} "
                f"({bound}){waiver}",
                stated_field(a),
            )


def _counted_from(s: CaseState | None, a: Event, m: Minimum) -> date:
    notice_id = getattr(a, "notice_id", None)
    if m.from_notice and s is not None and isinstance(notice_id, str):
        notice = s.notice(notice_id)
        if notice is not None:
            return notice.issued_on
    return a.occurred_on


def _other_deadline(a: Event, rule: DeadlineRule, kind: str, ctx: Context) -> date | None:
    """The due date the law gives the deadline of ``kind`` that ``a`` also sets."""
    for other in ctx.regime.deadline_rules:
        same_trigger = other.on == rule.on and other.notice_kind == rule.notice_kind
        if same_trigger and other.kind == kind:
            return rule_due(other, a, ctx, as_stated=False)
    return None
