"""What follows from an accepted action, by the regime's rules (all derived events).

In order: deadlines the action meets, clocks it stops or restarts, deadlines it extends,
deadlines its rules set, deadlines it cancels (closing the case, withdrawing a notice),
and finally the stage it moves the case to. Every derived event occurs when the action
did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from casemgmt.domain.decide.context import Context, basis_day, next_id, notice_kind_of
from casemgmt.domain.decide.explaining import (
    explain_disregard,
    explain_extension,
    explain_restart,
    explain_rule,
)
from casemgmt.domain.decide.statute import extension_targets
from casemgmt.domain.events import (
    AppealLodged,
    CaseClosed,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    DeadlinePaused,
    DeadlineSet,
    ExtensionAgreed,
    NoticeIssued,
    NoticeWithdrawn,
    PenaltyImposed,
    PenaltyPaid,
    PublicInterestExtension,
    RepresentationsReceived,
    StageChanged,
)
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import ClockStopRule
from casemgmt.domain.state.evolve import evolve
from casemgmt.domain.state.model import CaseState, DeadlineState

__all__ = ["derive", "derive_folded"]

E = TypeVar("E", bound=Event)
Producer = Callable[[CaseState, Event, Context], list[Event]]


def derive(state: CaseState, action: Event, ctx: Context) -> list[Event]:
    """The events that follow from ``action``, given ``state`` (which already includes it)."""
    return derive_folded(state, action, ctx)[0]


def derive_folded(state: CaseState, action: Event, ctx: Context) -> tuple[list[Event], CaseState]:
    """``derive``, and ``state`` with the derived events applied (already folded here)."""
    derived: list[Event] = []
    for produce in _PRODUCERS:
        for event in produce(state, action, ctx):
            derived.append(event)
            state = evolve(state, event)
    return derived, state


def _ref(a: Event) -> tuple[str | None, str | None]:
    """The notice id and penalty id an action refers to (an appeal: what it is against)."""
    notice = (
        a.notice_id
        if isinstance(a, NoticeIssued | NoticeWithdrawn | RepresentationsReceived)
        else a.against
        if isinstance(a, AppealLodged)
        else None
    )
    penalty = a.penalty_id if isinstance(a, PenaltyImposed | PenaltyPaid) else None
    return notice, penalty


def _meets(s: CaseState, a: Event, ctx: Context) -> list[Event]:
    rules = ctx.rules.meets.get(a.type_tag(), ())
    if not rules:
        return []
    notice_id, penalty_id = _ref(a)
    out: list[Event] = []
    for rule in rules:
        if rule.notice_kind not in (None, notice_kind_of(a)):
            continue
        for d in s.deadlines:
            # a missed duty is still met, late, by the act that meets it
            if not d.unresolved or d.kind != rule.kind:
                continue
            if (rule.match == "notice" and d.notice_id != notice_id) or (
                rule.match == "penalty" and d.penalty_id != penalty_id
            ):
                continue
            out.append(
                _at(a, DeadlineMet, deadline_id=d.deadline_id, rule=rule.id, trigger=a.type_tag())
            )
    return out


def _clocks(s: CaseState, a: Event, ctx: Context) -> list[Event]:
    """Stop the clocks ``a`` stops (not one already run out: its breach stands), resume
    those it resumes, and cancel those whose lapse deadline ``a`` records as missed."""
    out: list[Event] = []
    for rule in ctx.regime.clock_stops:
        if rule.stop_on == a.type_tag():
            out += [
                _at(
                    a,
                    DeadlinePaused,
                    deadline_id=d.deadline_id,
                    rule=rule.id,
                    reason=f"{a.type_tag()}: the clock stops",
                )
                for d in s.deadlines
                if d.kind == rule.kind and d.status == "open" and a.occurred_on <= d.due_on
            ]
        if isinstance(a, DeadlineMissed | DeadlineClosed):
            out += _lapse(s, a, rule)
        if rule.resume_on == a.type_tag():
            out += [
                _resume(d, rule, a, ctx)
                for d in s.deadlines
                if d.status == "paused" and d.paused_by == rule.id
            ]
    return out


def _lapse(s: CaseState, a: DeadlineMissed | DeadlineClosed, rule: ClockStopRule) -> list[Event]:
    ended = s.deadline(a.deadline_id)
    if ended is None or ended.kind != rule.lapse_kind:
        return []
    reason = f"{ended.label}: passed on {ended.due_on} unmet, the {rule.kind} clock lapsed"
    return [
        _at(a, DeadlineCancelled, deadline_id=d.deadline_id, reason=reason, rule=ended.rule)
        for d in s.deadlines
        if d.status == "paused" and d.paused_by == rule.id
    ]


def _resume(d: DeadlineState, rule: ClockStopRule, a: Event, ctx: Context) -> Event:
    if rule.resume == "restart":
        why = explain_restart(d, rule, a, ctx)
        reason = f"{a.type_tag()}: {rule.amount} {rule.unit} run again from {a.occurred_on}"
        basis: date | None = a.occurred_on
    else:
        why = explain_disregard(d, rule, a, ctx)
        step = next(s for s in why.steps if s.kind == "disregard")
        reason = f"{a.type_tag()}: {step.text}"
        basis = None
    return _at(
        a,
        DeadlineExtended,
        deadline_id=d.deadline_id,
        due_on=why.due_on,
        reason=reason,
        rule=rule.id,
        basis_on=basis,
        explanation=why,
    )


def _extensions(s: CaseState, a: Event, ctx: Context) -> list[Event]:
    if not isinstance(a, PublicInterestExtension | ExtensionAgreed):
        return []
    out: list[Event] = []
    for rule in ctx.regime.extensions:
        if rule.on != a.type_tag():
            continue
        for d in extension_targets(s, a, rule):
            why = explain_extension(d, rule, a, a.extended_to, ctx)
            reason = a.reason or f"{a.type_tag()} to {a.extended_to}"
            out.append(
                _at(
                    a,
                    DeadlineExtended,
                    deadline_id=d.deadline_id,
                    due_on=why.due_on,
                    rule=rule.id,
                    reason=reason,
                    explanation=why,
                )
            )
    return out


def _rules(s: CaseState, a: Event, ctx: Context) -> list[Event]:
    rules = ctx.rules.deadline_rules.get(a.type_tag(), ())
    if not rules:
        return []
    notice_id, penalty_id = _ref(a)
    taken = [d.deadline_id for d in s.deadlines]
    out: list[Event] = []
    for rule in rules:
        if rule.notice_kind not in (None, notice_kind_of(a)):
            continue
        why = explain_rule(rule, a, ctx)
        kind = ctx.regime.kind(rule.kind)
        if why is None or kind is None:  # every rule's kind is declared: checked at load
            continue
        deadline_id = next_id("-".join(filter(None, (rule.kind, notice_id, penalty_id))), taken)
        taken.append(deadline_id)
        out.append(
            _at(
                a,
                DeadlineSet,
                deadline_id=deadline_id,
                kind=rule.kind,
                label=rule.label,
                due_on=why.due_on,
                rule=rule.id,
                basis_on=basis_day(a),
                trigger=a.type_tag(),
                notice_id=notice_id,
                penalty_id=penalty_id,
                party=kind.party,
                obligation=kind.obligation,
                ends_at=rule.ends_at,
                explanation=why,
            )
        )
    return out


def _cancellations(s: CaseState, a: Event, ctx: Context) -> list[Event]:
    if isinstance(a, CaseClosed):
        targets, reason, rule = s.deadlines, "the case was closed", "case_closed"
    elif isinstance(a, NoticeWithdrawn):
        targets = tuple(d for d in s.deadlines if d.notice_id == a.notice_id)
        reason, rule = f"notice {a.notice_id} was withdrawn", "notice_withdrawn"
    else:
        return []
    return [
        _at(a, DeadlineCancelled, deadline_id=d.deadline_id, reason=reason, rule=rule)
        for d in targets
        if d.unresolved
    ]


def _stage(s: CaseState, a: Event, ctx: Context) -> list[Event]:
    for t in ctx.rules.transitions.get(a.type_tag(), ()):
        if t.notice_kind not in (None, notice_kind_of(a)):
            continue
        if (t.from_ and s.stage not in t.from_) or t.to == s.stage:
            continue
        return [_at(a, StageChanged, stage=t.to, from_stage=s.stage, trigger=a.type_tag())]
    return []


def _at(a: Event, cls: type[E], **fields: Any) -> E:
    """A derived event of ``cls`` occurring when ``a`` did."""
    return cls(occurred_on=a.occurred_on, occurred_at=a.occurred_at, **fields)


_PRODUCERS: tuple[Producer, ...] = (_meets, _clocks, _extensions, _rules, _cancellations, _stage)
