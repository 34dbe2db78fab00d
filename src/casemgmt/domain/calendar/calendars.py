"""Business calendars and the period arithmetic every deadline rule uses.

Holiday data comes from the ``holidays`` package (GB subdivisions ENG, WLS, SCT, NIR);
``eu-commission`` takes its holiday list from the regime file. Calendars are immutable and
cached per (name, extra holidays); holiday sets are computed once per calendar and year.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Final, Literal

import holidays

__all__ = [
    "CALENDAR_NAMES",
    "BusinessCalendar",
    "Unit",
    "add_months",
    "add_months_beginning_with",
    "get_calendar",
]

Unit = Literal["working_days", "calendar_days", "months"]

# calendar name -> GB subdivisions whose bank holidays are non-working days
_GB_SUBDIVISIONS: Final[dict[str, tuple[str, ...]]] = {
    "uk-foi": ("ENG", "WLS", "SCT", "NIR"),
    "england-and-wales": ("ENG", "WLS"),
    "scotland": ("SCT",),
    "northern-ireland": ("NIR",),
    "eu-commission": (),
    "calendar-days": (),
}
CALENDAR_NAMES: Final[frozenset[str]] = frozenset(_GB_SUBDIVISIONS)
_ONE_DAY: Final = timedelta(days=1)


@lru_cache(maxsize=256)
def _gb_holidays(name: str, year: int) -> frozenset[date]:
    days: set[date] = set()
    for subdiv in _GB_SUBDIVISIONS[name]:
        days.update(holidays.country_holidays("GB", subdiv=subdiv, years=year).keys())
    if name == "uk-foi":
        # FOIA s.10(6) names Christmas Day and Good Friday on top of bank holidays.
        days.add(date(year, 12, 25))
        days.update(
            d
            for d, label in holidays.country_holidays("GB", years=year).items()
            if label == "Good Friday"
        )
    return frozenset(days)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months, clipped to the month's last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month0 = divmod(index, 12)
    last = _stdcal.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last))


def add_months_beginning_with(start: date, months: int) -> date:
    """The last day of a period of ``months`` calendar months *beginning with* ``start``.

    The period ends the day before the corresponding date; where the last month has no
    corresponding date it ends on that month's last day (REFERENCE §2: 15 Mar 2026 + 6 ->
    14 Sep 2026; 31 Mar 2027 + 6 -> 30 Sep 2027). "Add months, then subtract a day" is
    wrong at month ends. ``months`` must be positive.
    """
    if months <= 0:
        raise ValueError("a period beginning with a day has at least one month")
    index = start.year * 12 + start.month - 1 + months
    year, month0 = divmod(index, 12)
    last = _stdcal.monthrange(year, month0 + 1)[1]
    if start.day > last:
        return date(year, month0 + 1, last)
    return date(year, month0 + 1, start.day) - _ONE_DAY


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are working days, and how periods are counted on them.

    ``calendar-days`` has no non-working days at all (every day counts and nothing rolls).
    """

    name: str
    extra_holidays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if self.name == "calendar-days":
            return True
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        return day not in _gb_holidays(self.name, day.year)

    def roll_forward(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add(
        self,
        start: date,
        amount: int,
        unit: Unit,
        *,
        inclusive: bool = False,
        roll_forward: bool = False,
    ) -> date:
        """The last day of a period of ``amount`` units running from ``start``.

        Working days: ``start`` is not counted, day 1 is the next working day (a negative
        amount counts backwards). Calendar days likewise start the day after. With
        ``inclusive`` the period *begins with* ``start`` (it counts as day 1; for working
        days only if it is one). Months keep the day number, clipped to the month's end;
        months *beginning with* ``start`` end the day before (``add_months_beginning_with``).
        ``roll_forward`` moves a result that is not a working day to the next one.
        """
        if unit == "months":
            beginning_with = inclusive and amount > 0
            result = (add_months_beginning_with if beginning_with else add_months)(start, amount)
        elif unit == "calendar_days":
            result = start + timedelta(days=amount - 1 if inclusive and amount > 0 else amount)
        else:
            begin = start - _ONE_DAY if inclusive and amount > 0 else start
            result = self._add_working_days(begin, amount)
        return self.roll_forward(result) if roll_forward else result

    def _add_working_days(self, start: date, amount: int) -> date:
        step = _ONE_DAY if amount >= 0 else -_ONE_DAY
        day, remaining = start, abs(amount)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end] when end >= start, else minus those in (end, start].

        ``working_days_between(today, due_on)`` is the number of working days remaining.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count


@lru_cache(maxsize=64)
def _cached(name: str, extra: frozenset[date]) -> BusinessCalendar:
    return BusinessCalendar(name, extra)


def get_calendar(name: str, extra_holidays: Iterable[date] = ()) -> BusinessCalendar:
    """The calendar called ``name`` (one of ``CALENDAR_NAMES``) with ``extra_holidays``.

    Raises ``KeyError`` for an unknown name.
    """
    if name not in _GB_SUBDIVISIONS:
        raise KeyError(f"unknown calendar {name!r}; known: {', '.join(sorted(CALENDAR_NAMES))}")
    return _cached(name, frozenset(extra_holidays))
