"""The what-if page: pick a regime rule and a trigger day (or a calendar, amount and
unit) and see the due date with its explanation, answered by the same service as
``POST /v1/calendar/due-date`` (``casemgmt.application.due_dates``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import msgspec

from casemgmt.application.due_dates import DueDateQuery, due_date, rule_choices
from casemgmt.application.errors import ValidationFailed
from casemgmt.domain.calendar.calendars import CALENDAR_NAMES
from casemgmt.domain.errors import RuleViolation
from casemgmt.domain.regime.registry import RegimeRegistry

__all__ = ["WhatIfQuery", "what_if_page"]

Short = Annotated[str, msgspec.Meta(max_length=200)]
Amount = Annotated[int, msgspec.Meta(ge=-3660, le=3660)]


class WhatIfQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The form: ``mode`` ``rule`` (``rule`` = ``regulator/regime/rule id``) or
    ``calendar``; ``start`` the trigger day; a stated rule or a calendar also takes
    ``amount`` and ``unit``."""

    mode: Literal["rule", "calendar"] = "rule"
    start: date | None = None
    rule: Short | None = None
    calendar: Short | None = None
    amount: Amount | None = None
    unit: Literal["working_days", "calendar_days", "months"] | None = None
    counting: Literal["after", "beginning_with"] = "after"
    roll_forward: bool = False


def _query(q: WhatIfQuery) -> DueDateQuery:
    assert q.start is not None
    if q.mode == "rule":
        regulator, regime, rule = [*(q.rule or "").split("/", 2), "", "", ""][:3]
        if not rule:
            raise ValidationFailed("pick a rule", field="rule")
        return DueDateQuery(
            start=q.start,
            rule=rule,
            regulator=regulator,
            regime=regime,
            amount=q.amount,
            unit=q.unit,
        )
    return DueDateQuery(
        start=q.start,
        calendar=q.calendar,
        amount=q.amount,
        unit=q.unit,
        counting=q.counting,
        roll_forward=q.roll_forward,
    )


def what_if_page(regimes: RegimeRegistry, q: WhatIfQuery) -> dict[str, Any]:
    """The form's choices, and the answer (or the reason there is none) once submitted."""
    answer, error = None, None
    if q.start is not None:
        try:
            answer = due_date(regimes, _query(q))
        except RuleViolation as exc:
            error = exc.reason
        except ValidationFailed as exc:
            error = str(exc)
    return {
        "query": q,
        "rules": rule_choices(regimes),
        "calendars": sorted(CALENDAR_NAMES),
        "answer": answer,
        "error": error,
    }
