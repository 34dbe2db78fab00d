"""Daily penalties (OSA 2023 s.137): how much a daily rate has accrued by a given day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from casemgmt.domain.events.fields import money
from casemgmt.domain.state.model import CaseState, PenaltyState

__all__ = ["Accrual", "accrual"]


@dataclass(frozen=True, slots=True)
class Accrual:
    """A daily penalty as of ``as_of``: ``days`` accrued, ``amount`` accrued (rate x days),
    ``total`` (the fixed amount plus it), the last day it can accrue (``ends_on``: the cap
    of days, or the day before compliance) and why it stops (``cap``, ``compliance``, or
    None while it still runs)."""

    as_of: date
    days: int
    amount: Decimal
    total: Decimal
    ends_on: date
    stopped_by: str | None


def accrual(case: CaseState, penalty: PenaltyState, as_of: date) -> Accrual | None:
    """The daily accrual of ``penalty`` by the end of ``as_of`` (None without a daily rate).

    Days accrue from ``daily_from`` (included) until the earliest of: the cap of days,
    the day before compliance (the ``daily_until`` deadline met), and ``as_of``.
    """
    if penalty.daily_rate is None or penalty.daily_from is None or not penalty.daily_max_days:
        return None
    ends_on = penalty.daily_from + timedelta(days=penalty.daily_max_days - 1)
    stopped_by = "cap"
    complied = case.deadline(penalty.daily_until) if penalty.daily_until else None
    if complied is not None and complied.met_on is not None and complied.met_on <= ends_on:
        ends_on, stopped_by = complied.met_on - timedelta(days=1), "compliance"
    last = min(ends_on, as_of)
    days = max((last - penalty.daily_from).days + 1, 0)
    amount = money(penalty.daily_rate) * days
    return Accrual(
        as_of=as_of,
        days=days,
        amount=amount,
        total=money(penalty.amount) + amount,
        ends_on=ends_on,
        stopped_by=stopped_by if as_of >= ends_on else None,
    )
