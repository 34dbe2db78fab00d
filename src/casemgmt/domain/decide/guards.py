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

from casemgmt.domain.decide.context import Context
from casemgmt.domain.decide.statute import check_fixed
from casemgmt.domain.events import (
    DeadlineExtended,
    DeadlineMissed,
    NoticeIssued,
    PenaltyImposed,
)
from casemgmt.domain.events.fields import money
from casemgmt.domain.regime.model import NoticeKind, PenaltyCap, Prerequisite
from casemgmt.domain.state.model import CaseState, DeadlineState, NoticeState

__all__ = [
    "active_deadline",
    "active_notice",
    "check_extension",
    "check_missed",
    "check_notice",
    "check_penalty",
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
    """Only an open deadline whose due instant has passed is missed: the event's
    ``occurred_at`` after ``due_at`` (17:00 on the due day for a tribunal filing), or, for an
    event without an instant, a day after the due day (and today after it too)."""
    d = known_deadline(s, a.deadline_id, ctx)
    if d.status != "open":
        raise ctx.refuse(
            "deadline_not_open",
            f"deadline {d.deadline_id!r} is {d.status}, not open",
            "deadline_id",
        )
    # The period ends at its due instant (17:00 for a tribunal filing, else the end of the
    # due day): an event that gives its instant may record the miss from then on.
    after_instant = a.occurred_at is not None and a.occurred_at > d.due_at
    if not after_instant and (a.occurred_on <= d.due_on or ctx.today <= d.due_on):
        raise ctx.refuse(
            "deadline_not_yet_due",
            f"deadline {d.deadline_id!r} is due on {d.due_on}; it is missed only once that day "
            f"has passed",
            "occurred_on",
        )
    if after_instant and (a.occurred_on < d.due_on or ctx.today < d.due_on):
        raise ctx.refuse(
            "deadline_not_yet_due",
            f"deadline {d.deadline_id!r} ends at {d.due_at.isoformat()}",
            "occurred_on",
        )


def check_extension(s: CaseState, a: DeadlineExtended, ctx: Context) -> None:
    """Extensions move a standing deadline later, within its rule's ``limit``; a deadline
    the law fixes is not moved by a plain extension at all."""
    d = active_deadline(s, a.deadline_id, ctx)
    check_fixed(d, a, ctx)
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
    cap = cal.period(d.basis_on, rule.limit, rule.unit, counting=rule.counting).due_on
    if a.due_on > cap:
        raise ctx.refuse(
            rule.id,
            f"{d.kind} may be extended to {cap} at most ({rule.limit} {rule.unit} from "
            f"{d.basis_on}), not {a.due_on}",
            "due_on",
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
    if not any(_deadline_fits(s, n.notice_id, p, a.occurred_on) for n in earlier):
        raise ctx.refuse(
            p.id,
            f"{kind.code} requires an earlier {p.notice_kind} whose {p.deadline_kind} "
            f"{_WANTED[p.deadline]}",
            "notice_kind",
        )


_WANTED = {
    "over": "deadline has passed or been met",
    "expired": "period has expired (early representations do not shorten it)",
    "running": "period is still running (it has not ended)",
}


def _deadline_fits(s: CaseState, notice_id: str, p: Prerequisite, on: date) -> bool:
    """Whether ``notice_id``'s deadline of ``p.deadline_kind`` is as ``p`` wants on ``on``."""
    found = [d for d in s.deadlines if d.notice_id == notice_id and d.kind == p.deadline_kind]
    if p.deadline == "expired":
        return any(d.status != "cancelled" and d.due_on < on for d in found)
    if p.deadline == "running":
        return any(d.active and on <= d.due_on for d in found)
    return any(
        d.status in ("met", "met_late", "missed", "closed")
        or (d.status == "open" and d.due_on < on)
        for d in found
    )


def check_penalty(s: CaseState, a: PenaltyImposed, ctx: Context) -> None:
    """The penalty is in the regime's currency and, where the cap is known, within it; a
    daily rate is complete and allowed for its kind."""
    regime = ctx.regime
    daily = (a.daily_rate, a.daily_from, a.daily_max_days)
    if any(x is not None for x in (*daily, a.daily_until)) and None in daily:
        raise ctx.refuse(
            "daily_penalty_incomplete",
            "a daily penalty states daily_rate, daily_from and daily_max_days together",
            "daily_rate",
        )
    if not regime.penalty_caps:
        if a.daily_rate is not None:
            raise ctx.refuse("daily_rate_not_allowed", f"{regime.code} has no daily penalties")
        return
    if a.currency != regime.penalty_currency:
        raise ctx.refuse(
            "penalty_currency",
            f"{regime.code} penalties are in {regime.penalty_currency}, not {a.currency}",
            "currency",
        )
    cap = _cap_for(a, ctx)
    if a.daily_rate is not None:
        _check_daily(s, a, cap, ctx)
    limit = _limit(cap, a.revenue)
    if limit is not None and money(a.amount) > limit:
        raise ctx.refuse(
            cap.id,
            f"penalty of {a.amount} {a.currency} is above the cap of {limit:.2f} {a.currency} "
            f"({cap.section or cap.penalty_kind})",
            "amount",
        )


def _check_daily(s: CaseState, a: PenaltyImposed, cap: PenaltyCap, ctx: Context) -> None:
    if not cap.daily_rate:
        raise ctx.refuse(
            "daily_rate_not_allowed",
            f"a {cap.penalty_kind} penalty has no daily rate ({cap.section or cap.id})",
            "daily_rate",
        )
    if a.daily_until is not None and s.deadline(a.daily_until) is None:
        raise ctx.refuse(
            "unknown_deadline", f"no deadline {a.daily_until!r} on this case", "daily_until"
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
