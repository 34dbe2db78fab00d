"""The checks ``decide`` makes on one proposed action, each refusing with a rule id.

Built-in rule ids: ``unknown_deadline``, ``deadline_not_open``, ``deadline_not_yet_due``,
``duplicate_deadline_id``, ``extension_not_later``, ``unknown_notice``,
``notice_not_active``, ``duplicate_notice_id``, ``unknown_notice_kind``,
``notice_period_ambiguous``, ``court_application_date_required``, ``duplicate_penalty_id``,
``unknown_penalty``, ``penalty_already_paid``, ``penalty_currency``,
``unknown_penalty_kind``, ``duplicate_appeal_id``, ``unknown_appeal``,
``appeal_already_decided``. Rules the regime file defines refuse with their own ids.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from casemgmt.domain.decide.context import Context, notice_kind_of, stated_due
from casemgmt.domain.events import (
    DeadlineExtended,
    DeadlineMissed,
    NoticeIssued,
    PenaltyImposed,
    PublicInterestExtension,
)
from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import money
from casemgmt.domain.regime.model import NoticeKind, PenaltyCap, Prerequisite
from casemgmt.domain.state.model import CaseState, DeadlineState, NoticeState

__all__ = [
    "active_deadline",
    "active_notice",
    "check_extension",
    "check_extension_request",
    "check_missed",
    "check_notice",
    "check_penalty",
    "check_stated_periods",
    "known_deadline",
    "new_id",
]


def known_deadline(s: CaseState, deadline_id: str, ctx: Context) -> DeadlineState:
    found = s.deadline(deadline_id)
    if found is None:
        raise ctx.refuse(
            "unknown_deadline", f"no deadline {deadline_id!r} on this case", "deadline_id"
        )
    return found


def active_deadline(s: CaseState, deadline_id: str, ctx: Context) -> DeadlineState:
    """The deadline, which must be open or paused."""
    found = known_deadline(s, deadline_id, ctx)
    if not found.active:
        raise ctx.refuse(
            "deadline_not_open",
            f"deadline {deadline_id!r} is {found.status}, not open",
            "deadline_id",
        )
    return found


def check_missed(s: CaseState, a: DeadlineMissed, ctx: Context) -> None:
    """Only an open deadline whose due day is over (before today and the event) is missed."""
    d = known_deadline(s, a.deadline_id, ctx)
    if d.status != "open":
        raise ctx.refuse(
            "deadline_not_open",
            f"deadline {d.deadline_id!r} is {d.status}, not open",
            "deadline_id",
        )
    if a.occurred_on <= d.due_on or ctx.today <= d.due_on:
        raise ctx.refuse(
            "deadline_not_yet_due",
            f"deadline {d.deadline_id!r} is due on {d.due_on}; it is missed only once that day "
            f"has passed",
            "occurred_on",
        )


def check_extension(s: CaseState, a: DeadlineExtended, ctx: Context) -> None:
    """Extensions move a standing deadline later, within its rule's ``limit``."""
    d = active_deadline(s, a.deadline_id, ctx)
    if a.due_on <= d.due_on:
        raise ctx.refuse(
            "extension_not_later",
            f"deadline {d.deadline_id!r} is due on {d.due_on}; an extension must move it later",
            "due_on",
        )
    rule = next((r for r in ctx.regime.deadline_rules if r.id == d.rule), None)
    if rule is None or rule.limit is None or rule.unit is None or d.basis_on is None:
        return
    cal = ctx.calendar(rule.calendar)
    cap = cal.add(d.basis_on, rule.limit, rule.unit, inclusive=rule.inclusive)
    if a.due_on > cap:
        raise ctx.refuse(
            rule.id,
            f"{d.kind} may be extended to {cap} at most ({rule.limit} {rule.unit} from "
            f"{d.basis_on}), not {a.due_on}",
            "due_on",
        )


def check_extension_request(s: CaseState, a: PublicInterestExtension, ctx: Context) -> None:
    """An extension rule moves an open, not yet passed deadline by at most its maximum."""
    for rule in (x for x in ctx.regime.extensions if x.on == a.type_tag()):
        targets = [d for d in s.deadlines if d.kind == rule.kind and d.status == "open"]
        if not targets:
            raise ctx.refuse(rule.id, f"there is no open {rule.kind} deadline to extend")
        for d in targets:
            if a.occurred_on > d.due_on:
                raise ctx.refuse(
                    rule.id, f"{rule.kind} passed on {d.due_on}; it can no longer be extended"
                )
            if a.extended_to <= d.due_on:
                raise ctx.refuse(rule.id, f"{a.extended_to} is not after {d.due_on}", "extended_to")
            cap = ctx.calendar().add(d.due_on, rule.max_amount, rule.unit)
            if a.extended_to > cap and not a.exceptional:
                raise ctx.refuse(
                    rule.id,
                    f"{a.type_tag()} to {a.extended_to} goes beyond {cap}, {rule.max_amount} "
                    f"{rule.unit} after {rule.kind} ({d.due_on}); set exceptional = true to go "
                    f"further",
                    "extended_to",
                )


def active_notice(s: CaseState, notice_id: str, ctx: Context) -> NoticeState:
    found = s.notice(notice_id)
    if found is None:
        raise ctx.refuse("unknown_notice", f"no notice {notice_id!r} on this case", "notice_id")
    if found.status != "issued":
        raise ctx.refuse(
            "notice_not_active", f"notice {notice_id!r} is {found.status}", "notice_id"
        )
    return found


def check_notice(s: CaseState, a: NoticeIssued, ctx: Context) -> None:
    """The kind exists, the id is new, the dates are coherent and prerequisites are met."""
    kind = ctx.regime.notice_kind(a.notice_kind)
    if kind is None:
        known = ", ".join(n.code for n in ctx.regime.notice_kinds) or "none"
        raise ctx.refuse(
            "unknown_notice_kind",
            f"{ctx.regime.code} has no notice kind {a.notice_kind!r} (known: {known})",
            "notice_kind",
        )
    if s.notice(a.notice_id) is not None:
        raise ctx.refuse(
            "duplicate_notice_id", f"notice {a.notice_id!r} already exists", "notice_id"
        )
    if a.respond_by is not None and a.period is not None:
        raise ctx.refuse(
            "notice_period_ambiguous", "a notice states respond_by or a period, not both", "period"
        )
    if kind.court_application and a.court_application_on is None:
        raise ctx.refuse(
            "court_application_date_required",
            f"{kind.code} records the day of the court application (court_application_on)",
            "court_application_on",
        )
    for prerequisite in kind.requires:
        _check_prerequisite(s, a, kind, prerequisite, ctx)


def _check_prerequisite(
    s: CaseState, a: NoticeIssued, kind: NoticeKind, p: Prerequisite, ctx: Context
) -> None:
    earlier = [
        n
        for n in s.notices
        if n.kind == p.notice_kind and n.status == "issued" and n.issued_on <= a.occurred_on
    ]
    if not earlier:
        raise ctx.refuse(p.id, f"{kind.code} requires an earlier {p.notice_kind}", "notice_kind")
    if p.deadline_kind is None:
        return
    if not any(_deadline_over(s, n.notice_id, p.deadline_kind, a.occurred_on) for n in earlier):
        raise ctx.refuse(
            p.id,
            f"{kind.code} requires an earlier {p.notice_kind} whose {p.deadline_kind} "
            f"deadline has passed or been met",
            "notice_kind",
        )


def _deadline_over(s: CaseState, notice_id: str, kind: str, on: date) -> bool:
    return any(
        d.status in ("met", "met_late", "missed", "closed")
        or (d.status == "open" and d.due_on < on)
        for d in s.deadlines
        if d.notice_id == notice_id and d.kind == kind
    )


def check_stated_periods(a: Event, ctx: Context) -> None:
    """Where the law leaves the period to the notice, the notice states one, long enough."""
    for rule in ctx.regime.deadline_rules:
        if rule.period != "stated" or rule.on != a.type_tag():
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
                "respond_by",
            )
        if due is not None and rule.minimum is not None:
            m = rule.minimum
            earliest = ctx.calendar(rule.calendar).add(
                a.occurred_on, m.amount, m.unit, inclusive=m.inclusive
            )
            if due < earliest:
                counted = "beginning with" if m.inclusive else "after"
                raise ctx.refuse(
                    rule.id,
                    f"{what} must allow at least {m.amount} {m.unit} {counted} {a.occurred_on} "
                    f"for {rule.kind} (on or after {earliest}), not {due}",
                    "respond_by",
                )


def check_penalty(a: PenaltyImposed, ctx: Context) -> None:
    """The penalty is in the regime's currency and, where the cap is known, within it."""
    regime = ctx.regime
    if not regime.penalty_caps:
        return
    if a.currency != regime.penalty_currency:
        raise ctx.refuse(
            "penalty_currency",
            f"{regime.code} penalties are in {regime.penalty_currency}, not {a.currency}",
            "currency",
        )
    cap = _cap_for(a, ctx)
    limit = _limit(cap, a.revenue)
    if limit is not None and money(a.amount) > limit:
        raise ctx.refuse(
            cap.id,
            f"penalty of {a.amount} {a.currency} is above the cap of {limit:.2f} {a.currency} "
            f"({cap.section or cap.penalty_kind})",
            "amount",
        )


def _cap_for(a: PenaltyImposed, ctx: Context) -> PenaltyCap:
    caps = ctx.regime.penalty_caps
    if a.penalty_kind is None:
        return caps[0]
    found = next((c for c in caps if c.penalty_kind == a.penalty_kind), None)
    if found is None:
        known = ", ".join(c.penalty_kind for c in caps)
        raise ctx.refuse(
            "unknown_penalty_kind",
            f"no penalty kind {a.penalty_kind!r} (known: {known})",
            "penalty_kind",
        )
    return found


def _limit(cap: PenaltyCap, revenue: str | None) -> Decimal | None:
    """The cap, or None when it depends on a revenue that is not known."""
    if cap.percent is not None and revenue is None:
        return None
    parts = [cap.fixed] if cap.fixed is not None else []
    if cap.percent is not None and revenue is not None:
        parts.append(money(revenue) * cap.percent / 100)
    return max(parts)


def new_id(given: str | None, prefix: str, taken: list[str], ctx: Context, what: str) -> str:
    """``given`` if it is free (else refuse), or the next ``prefix-N``."""
    if given is not None:
        if given in taken:
            raise ctx.refuse(
                f"duplicate_{what}_id", f"{what} {given!r} already exists", f"{what}_id"
            )
        return given
    n = len(taken) + 1
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"
