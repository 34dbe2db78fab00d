"""``decide``: may this action happen to this case under this regime, and what follows?

The caller proposes an event (the decoded HTTP body). ``decide`` returns it, possibly
normalised (``case_opened`` gets the regime's time zone, calendar and first stage; a
penalty or appeal without an id gets the next ``penalty-N`` / ``appeal-N``), followed by
the events the regime derives from it; or raises ``RuleViolation``.

Built-in rule ids besides those of ``decide.guards``: ``occurred_in_future``,
``case_already_open``, ``case_not_open``, ``regime_mismatch``, ``case_settings_mismatch``,
``derived_event``, ``case_closed``, ``action_not_allowed_in_stage`` and
``already_assigned`` (a ``case_assigned`` to the person who has the case already). On a
closed case only ``ALLOWED_WHEN_CLOSED`` may be recorded: notes, and the outcome of
reminders already in flight.
"""

from __future__ import annotations

from datetime import date
from typing import cast

from msgspec.structs import replace

from casemgmt.domain.decide import guards as guard
from casemgmt.domain.decide import parties, statute
from casemgmt.domain.decide.context import Context
from casemgmt.domain.decide.dates import check_event_dates, check_opening_dates
from casemgmt.domain.decide.derive import derive_folded
from casemgmt.domain.decide.explaining import explain_manual_move, explain_manual_set
from casemgmt.domain.decide.periods import check_stated_periods
from casemgmt.domain.events import (
    DERIVED_ONLY,
    AnyEvent,
    AppealDecided,
    AppealLodged,
    CaseAssigned,
    CaseOpened,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    DeadlineSet,
    ExtensionAgreed,
    NoticeIssued,
    NoticeWithdrawn,
    PenaltyImposed,
    PenaltyPaid,
    PublicInterestExtension,
    ReminderFailed,
    ReminderSent,
    RepresentationsReceived,
    ResponseSent,
)
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.model import Regime
from casemgmt.domain.state.evolve import evolve
from casemgmt.domain.state.model import CaseState

__all__ = ["ALLOWED_WHEN_CLOSED", "decide", "decide_folded"]

ALLOWED_WHEN_CLOSED: frozenset[str] = frozenset({"note_added", "reminder_sent", "reminder_failed"})


def decide(
    state: CaseState | None,
    action: Event,
    regime: Regime,
    today: date,
    actor: str | None = None,
) -> list[Event]:
    """``[action (normalised), *derived events]``, or ``RuleViolation``.

    ``state`` is the case before the action (None for a new case), ``today`` the local
    business date of the caller's clock, ``actor`` who proposes it (named in the
    explanation of a deadline set or moved by hand). Nothing here reads a clock or makes
    an id. Raises ``CalendarYearUnavailable`` when a period reaches a year its calendar
    has no holiday list for.
    """
    return decide_folded(state, action, regime, today, actor)[0]


def decide_folded(
    state: CaseState | None,
    action: Event,
    regime: Regime,
    today: date,
    actor: str | None = None,
) -> tuple[list[Event], CaseState]:
    """``decide``, and the case's state with every event it returns applied: the fold
    ``decide`` does anyway, so a caller that keeps the state need not evolve again."""
    regulator = state.regulator if state else getattr(action, "regulator", None)
    ctx = Context(regime, regime.label(regulator), today, actor)
    if action.occurred_on > today:
        raise ctx.refuse(
            "occurred_in_future",
            f"{action.type_tag()} occurred on {action.occurred_on}, after today ({today})",
            "occurred_on",
        )
    if isinstance(action, CaseOpened):
        opened = _open(state, action, ctx)
        derived, folded = derive_folded(evolve(None, opened), opened, ctx)
        return [opened, *derived], folded
    if state is None:
        raise ctx.refuse("case_not_open", f"{action.type_tag()} needs an open case: open it first")
    _guard_stage(state, action, ctx)
    check_event_dates(state, action, ctx)
    statute.check_clock_events(state, action, ctx)
    accepted = _check(state, cast(AnyEvent, action), ctx)
    check_stated_periods(state, accepted, ctx)
    derived, folded = derive_folded(evolve(state, accepted), accepted, ctx)
    return [accepted, *derived], folded


def _open(state: CaseState | None, a: CaseOpened, ctx: Context) -> CaseOpened:
    regime = ctx.regime
    if state is not None:
        raise ctx.refuse("case_already_open", f"case {state.case_id!r} is already open")
    if a.regime != regime.code or not (regime.any_regulator or a.regulator == regime.regulator):
        raise ctx.refuse(
            "regime_mismatch",
            f"a {a.regulator}/{a.regime} case cannot be opened under {regime.label()}",
            "regime",
        )
    parties.check_our_party(a, ctx)
    for name in ("opened_on", "received_on"):
        day = getattr(a, name)
        if day is not None and day > ctx.today:
            raise ctx.refuse(
                "occurred_in_future", f"{name} {day} is after today ({ctx.today})", name
            )
    check_opening_dates(a, ctx)
    return _filled(a, ctx)


def _filled(a: CaseOpened, ctx: Context) -> CaseOpened:
    """``a`` with the regime's time zone, calendar and first stage (a different one is refused)."""
    regime = ctx.regime
    wanted = {
        "timezone": regime.timezone,
        "calendar": regime.calendar,
        "stage": regime.initial_stage,
    }
    for name, value in wanted.items():
        given = getattr(a, name)
        if given is not None and given != value:
            raise ctx.refuse(
                "case_settings_mismatch",
                f"{name} is {value!r} under this regime, not {given!r}",
                name,
            )
    return replace(a, **wanted)


def _guard_stage(s: CaseState, a: Event, ctx: Context) -> None:
    tag = a.type_tag()
    if tag in DERIVED_ONLY:
        raise ctx.refuse(
            "derived_event", f"{tag} is derived by the system and cannot be posted", "type"
        )
    if s.regime != ctx.regime.code:
        raise ctx.refuse("regime_mismatch", f"the case is under {s.regime}, not {ctx.regime.code}")
    if s.closed:
        if tag not in ALLOWED_WHEN_CLOSED:
            allowed = ", ".join(sorted(ALLOWED_WHEN_CLOSED))
            raise ctx.refuse(
                "case_closed", f"the case is closed: only {allowed} may be recorded", "type"
            )
        return
    if not ctx.regime.allows(s.stage, tag) and not statute.overdue_allows(s, a, ctx):
        raise ctx.refuse(
            "action_not_allowed_in_stage", f"{tag} is not allowed in stage {s.stage!r}", "type"
        )


def _check(s: CaseState, a: AnyEvent, ctx: Context) -> Event:
    """Refuse ``a`` if a rule forbids it; otherwise return it, normalised."""
    match a:
        case DeadlineSet():
            if s.deadline(a.deadline_id) is not None:
                raise ctx.refuse(
                    "duplicate_deadline_id",
                    f"deadline {a.deadline_id!r} already exists",
                    "deadline_id",
                )
            why = explain_manual_set(a.due_on, a.occurred_on, a.ends_at, ctx)
            return replace(parties.with_party(a, ctx), explanation=why)
        case DeadlineMet():
            parties.check_resolution(s, a, ctx)
        case DeadlineCancelled():
            parties.check_resolution(s, a, ctx)
            statute.check_fixed(guard.known_deadline(s, a.deadline_id, ctx), a, ctx)
        case DeadlineExtended():
            guard.check_extension(s, a, ctx)
            d = guard.known_deadline(s, a.deadline_id, ctx)
            return replace(a, explanation=explain_manual_move(d, a.due_on, a.occurred_on, ctx))
        case DeadlineMissed():
            parties.check_missed_duty(s, a, ctx)
            guard.check_missed(s, a, ctx)
        case DeadlineClosed():
            parties.check_closed(s, a, ctx)
        case ReminderSent() | ReminderFailed():
            guard.known_deadline(s, a.deadline_id, ctx)
        case NoticeIssued():
            guard.check_notice(s, a, ctx)
        case NoticeWithdrawn() | RepresentationsReceived():
            guard.active_notice(s, a.notice_id, ctx)
        case PenaltyImposed():
            taken = [p.penalty_id for p in s.penalties]
            a = replace(a, penalty_id=guard.new_id(a.penalty_id, "penalty", taken, ctx, "penalty"))
            guard.check_penalty(s, a, ctx)
        case PenaltyPaid():
            return replace(a, penalty_id=_unpaid_penalty(s, a.penalty_id, ctx))
        case AppealLodged():
            taken = [x.appeal_id for x in s.appeals]
            return replace(a, appeal_id=guard.new_id(a.appeal_id, "appeal", taken, ctx, "appeal"))
        case AppealDecided():
            return replace(a, appeal_id=_pending_appeal(s, a.appeal_id, ctx))
        case PublicInterestExtension() | ExtensionAgreed():
            statute.check_extension_request(s, a, ctx)
        case CaseAssigned() if a.assignee == s.assignee:
            raise ctx.refuse(
                "already_assigned", f"the case is already assigned to {a.assignee!r}", "assignee"
            )
        case ResponseSent() if a.review_window is not None and a.review_by is not None:
            raise ctx.refuse(
                "notice_period_ambiguous", "state review_by or review_window, not both", "review_by"
            )
        case _:
            pass
    return a


def _unpaid_penalty(s: CaseState, given: str | None, ctx: Context) -> str:
    if given is None:
        unpaid = [p.penalty_id for p in s.penalties if not p.paid]
        if len(unpaid) != 1:
            raise ctx.refuse(
                "unknown_penalty",
                f"name the penalty_id: {len(unpaid)} penalties are unpaid",
                "penalty_id",
            )
        return unpaid[0]
    found = s.penalty(given)
    if found is None:
        raise ctx.refuse("unknown_penalty", f"no penalty {given!r} on this case", "penalty_id")
    if found.paid:
        raise ctx.refuse("penalty_already_paid", f"penalty {given!r} was paid on {found.paid_on}")
    return given


def _pending_appeal(s: CaseState, given: str | None, ctx: Context) -> str:
    if given is None:
        pending = [x.appeal_id for x in s.appeals if x.outcome is None]
        if len(pending) != 1:
            raise ctx.refuse(
                "unknown_appeal",
                f"name the appeal_id: {len(pending)} appeals are pending",
                "appeal_id",
            )
        return pending[0]
    found = s.appeal(given)
    if found is None:
        raise ctx.refuse("unknown_appeal", f"no appeal {given!r} on this case", "appeal_id")
    if found.outcome is not None:
        raise ctx.refuse(
            "appeal_already_decided", f"appeal {given!r} was decided on {found.decided_on}"
        )
    return given
