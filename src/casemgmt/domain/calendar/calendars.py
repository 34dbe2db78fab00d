"""Business calendars: which days are working days, and why a day is not one.

UK calendars take their bank holidays from the ``holidays`` package (GB subdivisions ENG,
WLS, SCT, NIR) for the years ``GB_YEARS``; ``eu-commission`` takes dated holiday lists
per year from the regime file (``HolidayYear``, each with a ``confirmed`` flag), and
knows no other year. Arithmetic that reaches a year a calendar has no list for raises
``CalendarYearUnavailable`` rather than counting weekends only.

Counting is O(log n): ``W(d)``, the number of working days up to ``d``, is weekday
arithmetic minus a ``bisect`` into the calendar's sorted index of weekday holidays, so
no operation walks the days between two dates (``casemgmt.domain.calendar.periods``
counts periods on top of it).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Final, Literal

from casemgmt.domain.calendar.holiday_lists import (
    GB_SUBDIVISIONS,
    GB_YEARS,
    DatedDay,
    Holiday,
    HolidayYear,
    gb_holidays,
)
from casemgmt.domain.errors import CalendarYearUnavailable

__all__ = [
    "CALENDAR_NAMES",
    "GB_YEARS",
    "BusinessCalendar",
    "Counting",
    "DatedDay",
    "Holiday",
    "HolidayYear",
    "PeriodEnd",
    "Unit",
    "add_months",
    "add_months_beginning_with",
    "get_calendar",
]

Unit = Literal["working_days", "calendar_days", "months"]
Counting = Literal["after", "beginning_with"]

CALENDAR_NAMES: Final[frozenset[str]] = frozenset(GB_SUBDIVISIONS)
_ONE_DAY: Final = timedelta(days=1)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole calendar months, clipped to the month's last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(start.day, _month_days(year, month0 + 1)))


def add_months_beginning_with(start: date, months: int) -> date:
    """The last day of ``months`` months *beginning with* ``start`` (REFERENCE §2).

    The day before the corresponding date; where the later month has none, that month's
    last day (Sun 15 Mar 2026 + 6 -> Mon 14 Sep 2026; Wed 31 Mar 2027 + 6 -> Thu 30 Sep 2027).
    """
    index = start.year * 12 + start.month - 1 + months
    year, month0 = divmod(index, 12)
    last = _month_days(year, month0 + 1)
    if start.day > last:
        return date(year, month0 + 1, last)
    return date(year, month0 + 1, start.day) - _ONE_DAY


@dataclass(frozen=True, slots=True)
class PeriodEnd:
    """Where a period ends, and how it got there (every date ``explain`` reports).

    ``counted_end`` is the last day of the count itself; ``rolled`` the next working day
    when that day is not one and the rule rolls; ``floored`` the later end Reg. 1182/71
    Art. 3(5) requires (a period of two days or more holds two working days); ``due_on``
    the result.
    """

    start: date
    amount: int
    unit: Unit
    counting: Counting
    counted_end: date
    rolled: date | None = None
    floored: date | None = None

    @property
    def due_on(self) -> date:
        return self.floored or self.rolled or self.counted_end


def _month_days(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - _ONE_DAY).day


def _weekdays_upto(day: date) -> int:
    """Weekdays in [Mon 1 Jan 0001, ``day``] (0001-01-01 was a Monday)."""
    weeks, rest = divmod(day.toordinal() - 1, 7)
    return weeks * 5 + min(rest + 1, 5)


def _nth_weekday(n: int) -> date:
    """The ``n``-th weekday (1-based) counted from Mon 1 Jan 0001: inverse of the above."""
    weeks, rest = divmod(n - 1, 5)
    return date.fromordinal(weeks * 7 + rest + 1)


@dataclass(frozen=True, slots=True)
class _Index:
    """A calendar's holidays: by day, the sorted weekday ones, and the years covered."""

    by_day: dict[date, Holiday]
    weekday_holidays: tuple[date, ...]
    years: tuple[int, ...]  # sorted
    unconfirmed: frozenset[int] = frozenset()
    year_set: frozenset[int] = frozenset()  # ``years`` again, for the one-year check

    def covers(self, first: int, last: int) -> bool:
        lo = bisect.bisect_left(self.years, first)
        hi = bisect.bisect_right(self.years, last)
        return hi - lo == last - first + 1


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are working days on calendar ``name``, and why the others are not.

    ``calendar-days`` has no non-working days at all (every day counts and nothing rolls)
    and no year limit. Every other calendar refuses days of years it has no holiday list
    for (``CalendarYearUnavailable``).
    """

    name: str
    dated: tuple[HolidayYear, ...] = ()
    _index: _Index = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _build_index(self.name, self.dated))

    @property
    def every_day_counts(self) -> bool:
        return self.name == "calendar-days"

    def place(self) -> str:
        """Where the calendar's working days are those of (for sentences)."""
        return {
            "uk-foi": "any part of the United Kingdom",
            "england-and-wales": "England and Wales",
            "scotland": "Scotland",
            "northern-ireland": "Northern Ireland",
            "eu-commission": "the Commission's calendar",
        }.get(self.name, self.name)

    def years_known(self) -> list[dict[str, object]]:
        """``[{"year", "confirmed"}]`` for the dated lists (empty for package calendars)."""
        return [{"year": y.year, "confirmed": y.confirmed} for y in self.dated]

    def require(self, first: date, last: date | None = None) -> None:
        """Raise ``CalendarYearUnavailable`` unless every year of [first, last] is listed."""
        if self.every_day_counts:
            return
        lo = first.year
        hi = lo if last is None else last.year
        if lo == hi and lo in self._index.year_set:
            return  # the common case, without sorting or bisecting
        lo, hi = sorted((lo, hi))
        if not self._index.covers(lo, hi):
            missing = next(y for y in range(lo, hi + 1) if not self._index.covers(y, y))
            years = self._index.years
            known = f"{years[0]}-{years[-1]}" if years else "none"
            raise CalendarYearUnavailable(self.name, missing, known)

    def holiday(self, day: date) -> Holiday | None:
        """The holiday on ``day``, if the calendar has one (weekends are not holidays)."""
        self.require(day)
        return self._index.by_day.get(day)

    def is_working_day(self, day: date) -> bool:
        if self.every_day_counts:
            return True
        self.require(day)
        return day.weekday() < 5 and day not in self._index.by_day

    def confirmed(self, year: int) -> bool:
        """False for a dated year not yet checked against its published source."""
        return year not in self._index.unconfirmed

    def working_days_upto(self, day: date) -> int:
        """W(day): working days from the calendar's epoch up to and including ``day``."""
        if self.every_day_counts:
            return day.toordinal()
        self.require(day)
        return _weekdays_upto(day) - bisect.bisect_right(self._index.weekday_holidays, day)

    def nth_working_day(self, n: int) -> date:
        """The working day ``d`` with ``W(d) == n``: the first day reaching that count."""
        if self.every_day_counts:
            return date.fromordinal(n)
        guess = _nth_weekday(n)
        while True:  # W is monotone: each pass moves past the holidays found, never back
            self.require(guess)
            held = bisect.bisect_right(self._index.weekday_holidays, guess)
            following = _nth_weekday(n + held)
            if following == guess:
                return guess
            guess = following

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end] when end >= start, else minus those in (end, start].

        ``working_days_between(today, due_on)`` is the number of working days remaining.
        O(log n): two ``bisect`` lookups, never a walk over the days.
        """
        self.require(start, end)
        return self.working_days_upto(end) - self.working_days_upto(start)

    def add_working_days(self, start: date, amount: int) -> date:
        """``amount`` working days after ``start`` (day 1 is the next working day);
        a negative amount counts back (day -1 is the previous working day)."""
        if amount == 0:
            return start
        base = self.working_days_upto(start)
        if amount < 0 and not self.is_working_day(start):
            base += 1
        return self.nth_working_day(base + amount)

    def roll_forward(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        if self.is_working_day(day):
            return day
        return self.nth_working_day(self.working_days_upto(day) + 1)

    def period(
        self,
        start: date,
        amount: int,
        unit: Unit,
        *,
        counting: Counting = "after",
        roll_forward: bool = False,
        min_working_days: int = 0,
    ) -> PeriodEnd:
        """The end of a period of ``amount`` ``unit`` counted from ``start`` (REFERENCE §5).

        ``after``: ``start`` is not counted (working days: day 1 is the next working day;
        a negative amount counts back). ``beginning_with``: ``start`` is day 1 (for working
        days only if it is one), so the period ends a day earlier; months end on the day
        before the corresponding date, or on the later month's last day. ``roll_forward``
        moves a last day that is not a working day to the next one; ``min_working_days``
        stretches a period of two days or more until it holds that many working days.
        """
        end = self._counted_end(start, amount, unit, counting)
        rolled = self.roll_forward(end) if roll_forward else end
        floored = rolled
        if min_working_days and amount >= 2 and unit != "working_days":
            first = start - _ONE_DAY if counting == "beginning_with" else start
            if self.working_days_between(first, rolled) < min_working_days:
                floored = self.add_working_days(first, min_working_days)
        return PeriodEnd(
            start=start,
            amount=amount,
            unit=unit,
            counting=counting,
            counted_end=end,
            rolled=rolled if rolled != end else None,
            floored=floored if floored != rolled else None,
        )

    def _counted_end(self, start: date, amount: int, unit: Unit, counting: Counting) -> date:
        inclusive = counting == "beginning_with" and amount > 0
        if unit == "months":
            return (
                add_months_beginning_with(start, amount) if inclusive else add_months(start, amount)
            )
        if unit == "calendar_days":
            return start + timedelta(days=amount - 1 if inclusive else amount)
        if inclusive and self.is_working_day(start):
            return self.add_working_days(start, amount - 1) if amount > 1 else start
        return self.add_working_days(start, amount)

    def add(
        self,
        start: date,
        amount: int,
        unit: Unit,
        *,
        inclusive: bool = False,
        roll_forward: bool = False,
    ) -> date:
        """``period(...).due_on``; ``inclusive`` is ``counting="beginning_with"``."""
        counting: Counting = "beginning_with" if inclusive else "after"
        return self.period(start, amount, unit, counting=counting, roll_forward=roll_forward).due_on

    def non_working_days(self, first: date, last: date) -> list[date]:
        """The non-working days in [first, last], in order (for explanations)."""
        if self.every_day_counts or last < first:
            return []
        self.require(first, last)  # every year in between: no day below needs checking
        by_day = self._index.by_day
        days = (first + timedelta(days=i) for i in range((last - first).days + 1))
        return [d for d in days if d.weekday() >= 5 or d in by_day]

    def reason(self, day: date) -> tuple[str, Holiday | None]:
        """Why ``day`` is not a working day: ``("weekend", None)`` or ``("holiday", h)``."""
        found = self.holiday(day)
        if found is None or day.weekday() >= 5:
            return "weekend", None
        return "holiday", found


def _build_index(name: str, dated: tuple[HolidayYear, ...]) -> _Index:
    if name == "calendar-days":
        return _Index({}, (), ())
    if GB_SUBDIVISIONS.get(name):
        by_day = gb_holidays(name)
        years: tuple[int, ...] = tuple(GB_YEARS)
        unconfirmed: frozenset[int] = frozenset()
    else:
        by_day = {
            d.on: Holiday(d.on, d.name, "the Commission", y.confirmed)
            for y in dated
            for d in y.days
        }
        years = tuple(sorted({y.year for y in dated}))
        unconfirmed = frozenset(y.year for y in dated if not y.confirmed)
    weekday = tuple(sorted(d for d in by_day if d.weekday() < 5))
    return _Index(by_day, weekday, years, unconfirmed, frozenset(years))


@lru_cache(maxsize=64)
def _cached(name: str, dated: tuple[HolidayYear, ...]) -> BusinessCalendar:
    return BusinessCalendar(name, dated)


def get_calendar(name: str, dated: Iterable[HolidayYear] = ()) -> BusinessCalendar:
    """The calendar called ``name`` (one of ``CALENDAR_NAMES``) with its dated years.

    ``dated`` is the regime file's per-year holiday lists (used by ``eu-commission``; the
    UK calendars take theirs from the ``holidays`` package). Raises ``KeyError`` for an
    unknown name.
    """
    if name not in GB_SUBDIVISIONS:
        raise KeyError(f"unknown calendar {name!r}; known: {', '.join(sorted(CALENDAR_NAMES))}")
    return _cached(name, tuple(sorted(dated, key=lambda y: y.year)))
