"""The checks of ``decide`` about who must act: parties, duties and windows.

Rule ids: ``deadline_party_required`` (a kind the regime does not declare must state its
party and obligation), ``deadline_kind_party_mismatch`` (a declared kind means one thing),
``window_not_missable`` (a window closes, it is not missed), ``duty_not_closable`` (a duty
is missed, not closed), ``waiver_reason_required`` (resolving a missed duty without meeting
it needs a reason), ``our_party_not_in_regime``.
"""

from __future__ import annotations

from datetime import date

from msgspec.structs import replace

from casemgmt.domain.decide.context import Context
from casemgmt.domain.decide.guards import known_deadline
from casemgmt.domain.events import (
    CaseOpened,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineMet,
    DeadlineMissed,
    DeadlineSet,
)
from casemgmt.domain.state.model import CaseState, DeadlineState

__all__ = [
    "check_closed",
    "check_missed_duty",
    "check_our_party",
    "check_resolution",
    "with_party",
]


def with_party(a: DeadlineSet, ctx: Context) -> DeadlineSet:
    """``a`` with the party and obligation its kind has under the regime.

    A kind the regime declares fills them (stating others is refused); any other kind
    must state both.
    """
    declared = ctx.regime.kind(a.kind)
    if declared is None:
        for name in ("party", "obligation"):
            if getattr(a, name) is None:
                raise ctx.refuse(
                    "deadline_party_required",
                    f"{ctx.label} does not declare deadline kind {a.kind!r}: state its "
                    f"{name} (party: who must act; obligation: duty or window)",
                    name,
                )
        return a
    for name in ("party", "obligation"):
        given, meant = getattr(a, name), getattr(declared, name)
        if given is not None and given != meant:
            raise ctx.refuse(
                "deadline_kind_party_mismatch",
                f"a {a.kind} deadline has {name} {meant!r} under {ctx.label}, not {given!r}",
                name,
            )
    return replace(a, party=declared.party, obligation=declared.obligation)


def check_our_party(a: CaseOpened, ctx: Context) -> None:
    """The team's side must be a party of the procedure (a requester has no OSA case)."""
    parties = ctx.regime.parties()
    if a.our_party is not None and a.our_party not in parties:
        raise ctx.refuse(
            "our_party_not_in_regime",
            f"{a.our_party!r} has no part in {ctx.label} (parties: {', '.join(parties)})",
            "our_party",
        )


def check_missed_duty(s: CaseState, a: DeadlineMissed, ctx: Context) -> None:
    """Only a duty is missed; a window that passes closes (``deadline_closed``)."""
    d = known_deadline(s, a.deadline_id, ctx)
    if d.obligation == "window":
        raise ctx.refuse(
            "window_not_missable",
            f"{d.deadline_id!r} is the {d.party}'s window to act, not a duty: when it passes "
            "it closes (deadline_closed), nobody missed it",
            "deadline_id",
        )


def check_closed(s: CaseState, a: DeadlineClosed, ctx: Context) -> None:
    """Only an open window whose due day is over closes unused."""
    d = known_deadline(s, a.deadline_id, ctx)
    if d.obligation != "window":
        raise ctx.refuse(
            "duty_not_closable",
            f"{d.deadline_id!r} is the {d.party}'s duty: when it passes unmet it is missed "
            "(deadline_missed)",
            "deadline_id",
        )
    _open_and_over(d, a.occurred_on, ctx)


def _open_and_over(d: DeadlineState, on: date, ctx: Context) -> None:
    if d.status != "open":
        raise ctx.refuse(
            "deadline_not_open",
            f"deadline {d.deadline_id!r} is {d.status}, not open",
            "deadline_id",
        )
    if on <= d.due_on or ctx.today <= d.due_on:
        raise ctx.refuse(
            "deadline_not_yet_due",
            f"deadline {d.deadline_id!r} is due on {d.due_on}; it closes only once that day "
            "has passed",
            "occurred_on",
        )


def check_resolution(s: CaseState, a: DeadlineMet | DeadlineCancelled, ctx: Context) -> None:
    """A standing deadline, or a missed duty, may be met or cancelled.

    A missed duty met is met late; cancelled (waived), it needs a ``reason``.
    """
    d = known_deadline(s, a.deadline_id, ctx)
    if not d.unresolved:
        raise ctx.refuse(
            "deadline_not_open",
            f"deadline {d.deadline_id!r} is {d.status}, not open",
            "deadline_id",
        )
    if isinstance(a, DeadlineCancelled) and d.status == "missed" and a.reason is None:
        raise ctx.refuse(
            "waiver_reason_required",
            f"deadline {d.deadline_id!r} was missed on {d.missed_on}: say why it is waived or "
            "cancelled (reason)",
            "reason",
        )
