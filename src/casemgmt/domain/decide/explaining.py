"""The explanation of every deadline ``decide`` sets or moves, from the same arithmetic.

Each function here computes the due date *and* its explanation in one go (the date is
``Explanation.due_on``); ``derive`` takes the date from the explanation, so the two can
never disagree.
"""

from __future__ import annotations

from datetime import date

from msgspec.structs import replace

from casemgmt.domain.calendar.calendars import PeriodEnd
from casemgmt.domain.calendar.explain import (
    Explanation,
    ends_text,
    explain_period,
    fmt_day,
    step,
)
from casemgmt.domain.decide.context import Context, basis_day, stated_period
from casemgmt.domain.events import CaseOpened, NoticeIssued
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import ClockStopRule, DeadlineRule, ExtensionRule, Regime
from casemgmt.domain.state.model import DeadlineState

__all__ = [
    "explain_count",
    "explain_disregard",
    "explain_extension",
    "explain_manual_move",
    "explain_manual_set",
    "explain_restart",
    "explain_rule",
    "trigger_text",
]


def trigger_text(a: Event, ctx: Context) -> str:
    """``notice of intent nov-1 given``, ``request received``, ``response sent``."""
    if isinstance(a, NoticeIssued):
        kind = ctx.regime.notice_kind(a.notice_kind)
        return f"{kind.name if kind else a.notice_kind} {a.notice_id} given"
    if isinstance(a, CaseOpened):
        return "request received" if a.received_on else "case opened"
    return a.type_tag().replace("_", " ")


def explain_rule(rule: DeadlineRule, a: Event, ctx: Context) -> Explanation | None:
    """The due date ``rule`` gives ``a`` with its explanation, or None (nothing stated).

    A date ``a`` gives in the rule's ``stated_by`` field (an appellant's own reckoning)
    replaces the computed one, and the explanation shows both.
    """
    waived = bool(rule.minimum and rule.minimum.unless and getattr(a, rule.minimum.unless, False))
    if rule.period == "statutory":
        found = explain_count(ctx.regime, rule, basis_day(a), trigger_text(a, ctx))
    else:
        stated = stated_period(a, rule, ctx)
        if stated is None:
            return None
        found = explain_count(
            ctx.regime, rule, a.occurred_on, trigger_text(a, ctx), stated, waived=waived
        )
    given = getattr(a, rule.stated_by, None) if rule.stated_by else None
    if not isinstance(given, date) or given == found.due_on:
        return found
    text = f"the date given ({rule.stated_by}) is {fmt_day(given)}: it replaces the computed one"
    return replace(
        found,
        due_on=given,
        steps=(*found.steps, step("stated", given, text)),
        sentence=f"{found.sentence}; {text}",
    )


def explain_count(
    regime: Regime,
    rule: DeadlineRule,
    trigger: date,
    what: str,
    stated: date | PeriodEnd | None = None,
    *,
    waived: bool = False,
) -> Explanation:
    """``rule``'s due date for a trigger on ``trigger`` (``what`` happened), explained:
    its statutory period, or the ``stated`` date or counted period; then its minimum."""
    tz = regime.timezone
    if isinstance(stated, date):
        found = Explanation(
            due_on=stated,
            sentence=f"{what} on {fmt_day(trigger)} states {fmt_day(stated)}"
            + (f" ({rule.citation})" if rule.citation else ""),
            steps=(
                step("trigger", trigger, f"{what} on {fmt_day(trigger)}"),
                step("stated", stated, f"the date stated: {fmt_day(stated)}"),
                step("ends", stated, ends_text(stated, rule.ends_at, tz)),
            ),
            rule=rule.id,
            citation=rule.citation or None,
            ends_at=rule.ends_at,
            timezone=tz,
        )
    else:
        found = explain_period(
            regime.business_calendar(rule.calendar),
            stated or regime.count(rule, trigger),
            trigger=what,
            rule=rule.id,
            citation=rule.citation or None,
            roll_forward=rule.roll_forward,
            ends_at=rule.ends_at,
            timezone=tz,
        )
    return _with_minimum(found, rule, trigger, regime, waived=waived)


def _with_minimum(
    e: Explanation, rule: DeadlineRule, given: date, regime: Regime, *, waived: bool = False
) -> Explanation:
    """``e`` with the minimum the law sets on a stated date, and whether it was met (or,
    ``waived``, that the event says it is ``unless`` so the minimum does not apply)."""
    m = rule.minimum
    if m is None:
        return e
    cited = m.citation or rule.citation
    if waived:
        text = f"minimum not applied: the notice says it is {m.unless} ({cited})"
        return replace(
            e, steps=(*e.steps, step("minimum", None, text)), sentence=f"{e.sentence}; {text}"
        )
    checks: list[tuple[date, str]] = []
    earliest = regime.earliest_lawful(rule, given)
    if earliest is not None:
        counting = "beginning with" if earliest.counting == "beginning_with" else "after"
        what = f"{earliest.amount} {earliest.unit.replace('_', ' ')} {counting} {fmt_day(given)}"
        checks.append((earliest.due_on, what))
    other = next(
        (
            x
            for x in regime.deadline_rules
            if m.not_before
            and x.kind == m.not_before
            and (x.on, x.notice_kind) == (rule.on, rule.notice_kind)
            and x.period == "statutory"
        ),
        None,
    )
    if other is not None:
        checks.append((regime.count(other, given).due_on, f"the {other.kind.replace('_', ' ')}"))
    for bound, what in checks:
        verdict = "met" if e.due_on >= bound else "NOT met"
        waiver = f", unless {m.unless}" if m.unless and m.unless not in cited else ""
        text = f"minimum checked: not before {what}, {fmt_day(bound)} ({cited}{waiver}): {verdict}"
        e = replace(
            e,
            steps=(*e.steps, step("minimum", bound, text)),
            sentence=f"{e.sentence}; the law's minimum ends {fmt_day(bound)}: {verdict}",
        )
    return e


def explain_restart(d: DeadlineState, rule: ClockStopRule, a: Event, ctx: Context) -> Explanation:
    """The clock of ``d`` runs afresh from ``a`` (an FOI clarification received)."""
    assert rule.amount is not None  # a restart has amount and unit: checked at load
    assert rule.unit is not None
    cal = ctx.calendar()
    p = cal.period(a.occurred_on, rule.amount, rule.unit)
    base = explain_period(
        cal,
        p,
        trigger=trigger_text(a, ctx),
        rule=rule.id,
        citation=rule.citation or None,
        roll_forward=False,
        ends_at=d.ends_at,
        timezone=ctx.regime.timezone,
    )
    paused = d.paused_on or a.occurred_on
    pause = step("pause", paused, f"clock stopped on {fmt_day(paused)} ({d.paused_by})")
    restart = step(
        "restart", a.occurred_on, f"the period runs afresh from {fmt_day(a.occurred_on)}"
    )
    before = d.explanation.steps if d.explanation else ()
    return replace(
        base,
        steps=(*before, pause, restart, *base.steps),
        sentence=f"the clock stopped on {fmt_day(paused)} and restarted: {base.sentence}",
    )


def explain_disregard(d: DeadlineState, rule: ClockStopRule, a: Event, ctx: Context) -> Explanation:
    """The working days from the stop day to ``a``'s day, both included, do not count."""
    cal = ctx.calendar()
    stopped = d.paused_on or a.occurred_on
    skipped = cal.working_days_between(stopped, a.occurred_on) + cal.is_working_day(stopped)
    p = cal.period(d.due_on, skipped, "working_days")
    moved = explain_period(
        cal,
        p,
        trigger=f"due date before the pause ({fmt_day(d.due_on)})",
        rule=rule.id,
        citation=rule.citation or None,
        roll_forward=False,
        ends_at=d.ends_at,
        timezone=ctx.regime.timezone,
    )
    text = (
        f"{skipped} working days from {fmt_day(stopped)} to {fmt_day(a.occurred_on)}, "
        f"both included, are disregarded"
    )
    before = d.explanation.steps if d.explanation else ()
    prior = d.explanation.sentence if d.explanation else f"due {fmt_day(d.due_on)}"
    return replace(
        moved,
        steps=(*before, step("disregard", a.occurred_on, text, amount=skipped), *moved.steps),
        sentence=f"{prior}; {text} ({rule.citation or rule.id}), so it is due {fmt_day(p.due_on)}",
    )


def explain_extension(
    d: DeadlineState, rule: ExtensionRule, a: Event, to: date, ctx: Context
) -> Explanation:
    """A statutory extension of ``d`` to ``to``, with the limit it was checked against."""
    text = (
        f"{trigger_text(a, ctx)} on {fmt_day(a.occurred_on)} extends it to {fmt_day(to)} "
        f"({rule.citation or rule.id})"
    )
    if rule.max_amount is not None and rule.unit is not None:
        cap = ctx.calendar().period(d.due_on, rule.max_amount, rule.unit).due_on
        text += (
            f"; at most {rule.max_amount} {rule.unit.replace('_', ' ')} after "
            f"{fmt_day(d.due_on)} (that is {fmt_day(cap)}) unless exceptional"
        )
    before = d.explanation.steps if d.explanation else ()
    prior = d.explanation.sentence if d.explanation else f"due {fmt_day(d.due_on)}"
    return Explanation(
        due_on=to,
        sentence=f"{prior}; {text}",
        steps=(
            *before,
            step("extension", to, text),
            step("ends", to, ends_text(to, d.ends_at, ctx.regime.timezone)),
        ),
        rule=rule.id,
        citation=rule.citation or None,
        ends_at=d.ends_at,
        timezone=ctx.regime.timezone,
    )


def explain_manual_set(due_on: date, on: date, ends_at: str | None, ctx: Context) -> Explanation:
    """A deadline set by hand: no rule, the date as given, and by whom."""
    who = ctx.actor or "an unnamed user"
    text = f"set by hand by {who} on {fmt_day(on)}: due {fmt_day(due_on)}"
    tz = ctx.regime.timezone
    return Explanation(
        due_on=due_on,
        sentence=f"{text} (no regime rule; {ends_text(due_on, ends_at, tz)})",
        steps=(step("manual", due_on, text), step("ends", due_on, ends_text(due_on, ends_at, tz))),
        ends_at=ends_at,
        timezone=tz,
        set_by=ctx.actor,
    )


def explain_manual_move(d: DeadlineState, to: date, on: date, ctx: Context) -> Explanation:
    """A deadline moved by hand (``deadline_extended`` posted by a user)."""
    who = ctx.actor or "an unnamed user"
    text = f"moved by hand by {who} on {fmt_day(on)} from {fmt_day(d.due_on)} to {fmt_day(to)}"
    before = d.explanation.steps if d.explanation else ()
    prior = d.explanation.sentence if d.explanation else f"due {fmt_day(d.due_on)}"
    tz = ctx.regime.timezone
    return Explanation(
        due_on=to,
        sentence=f"{prior}; {text}",
        steps=(*before, step("manual", to, text), step("ends", to, ends_text(to, d.ends_at, tz))),
        rule=d.rule,
        citation=d.explanation.citation if d.explanation else None,
        ends_at=d.ends_at,
        timezone=tz,
        set_by=ctx.actor,
    )
