"""Business calendars and period arithmetic: REFERENCE.md §5 and the §6 worked examples."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casemgmt.domain import get_calendar
from casemgmt.domain.calendar.calendars import (
    CALENDAR_NAMES,
    DatedDay,
    HolidayYear,
    Unit,
    add_months,
    add_months_beginning_with,
)

D = date

# REFERENCE.md §6: (rule, calendar, start, amount, unit, inclusive, expected)
WORKED_EXAMPLES = [
    (
        "FOI response, seed request",
        "uk-foi",
        D(2026, 1, 7),
        20,
        "working_days",
        False,
        D(2026, 2, 4),
    ),
    (
        "FOI response across Easter",
        "uk-foi",
        D(2026, 3, 20),
        20,
        "working_days",
        False,
        D(2026, 4, 21),
    ),
    (
        "FOI response across St Patrick's Day",
        "uk-foi",
        D(2026, 3, 10),
        20,
        "working_days",
        False,
        D(2026, 4, 10),
    ),
    (
        "FOI response across Christmas",
        "uk-foi",
        D(2026, 12, 10),
        20,
        "working_days",
        False,
        D(2027, 1, 13),
    ),
    (
        "FOI public-interest extension to 40 wd",
        "uk-foi",
        D(2026, 1, 7),
        40,
        "working_days",
        False,
        D(2026, 3, 4),
    ),
    (
        "internal-review window, 2 months",
        "uk-foi",
        D(2026, 2, 4),
        2,
        "months",
        False,
        D(2026, 4, 4),
    ),
    (
        "1 calendar month, clipped",
        "calendar-days",
        D(2026, 1, 31),
        1,
        "months",
        False,
        D(2026, 2, 28),
    ),
    (
        "ICO appeal window, 28 days",
        "calendar-days",
        D(2026, 3, 10),
        28,
        "calendar_days",
        False,
        D(2026, 4, 7),
    ),
    (
        "ICO representations, 21 days beginning with the day",
        "calendar-days",
        D(2026, 12, 10),
        21,
        "calendar_days",
        True,
        D(2026, 12, 30),
    ),
]


@pytest.mark.parametrize(
    ("rule", "calendar", "start", "amount", "unit", "inclusive", "expected"),
    WORKED_EXAMPLES,
    ids=[row[0] for row in WORKED_EXAMPLES],
)
def test_worked_examples_of_the_reference_give_the_expected_due_date(
    rule: str, calendar: str, start: date, amount: int, unit: Unit, inclusive: bool, expected: date
) -> None:
    assert get_calendar(calendar).add(start, amount, unit, inclusive=inclusive) == expected


# REFERENCE.md §5: 2026 bank holidays and where they apply (E&W, Scotland, NI)
HOLIDAYS_2026 = [
    (D(2026, 1, 1), {"england-and-wales", "scotland", "northern-ireland"}),
    (D(2026, 1, 2), {"scotland"}),
    (D(2026, 3, 17), {"northern-ireland"}),
    (D(2026, 4, 3), {"england-and-wales", "scotland", "northern-ireland"}),
    (D(2026, 4, 6), {"england-and-wales", "northern-ireland"}),
    (D(2026, 5, 4), {"england-and-wales", "scotland", "northern-ireland"}),
    (D(2026, 5, 25), {"england-and-wales", "scotland", "northern-ireland"}),
    (D(2026, 6, 15), {"scotland"}),
    (D(2026, 7, 13), {"northern-ireland"}),
    (D(2026, 8, 3), {"scotland"}),
    (D(2026, 8, 31), {"england-and-wales", "northern-ireland"}),
    (D(2026, 11, 30), {"scotland"}),
    (D(2026, 12, 25), {"england-and-wales", "scotland", "northern-ireland"}),
    (D(2026, 12, 28), {"england-and-wales", "scotland", "northern-ireland"}),
]
UK_PARTS = ("england-and-wales", "scotland", "northern-ireland")


@pytest.mark.parametrize(("day", "where"), HOLIDAYS_2026, ids=[str(d) for d, _ in HOLIDAYS_2026])
def test_2026_bank_holidays_are_non_working_where_they_apply_and_in_uk_foi(
    day: date, where: set[str]
) -> None:
    for part in UK_PARTS:
        assert get_calendar(part).is_working_day(day) == (part not in where), part
    assert not get_calendar("uk-foi").is_working_day(day)


def test_uk_foi_has_no_other_weekday_holidays_in_2026() -> None:
    uk_foi = get_calendar("uk-foi")
    weekdays = [D(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    off = {d for d in weekdays if d.weekday() < 5 and not uk_foi.is_working_day(d)}
    assert off == {d for d, _ in HOLIDAYS_2026}


def test_weekends_are_never_working_days_but_every_day_counts_on_calendar_days() -> None:
    saturday = D(2026, 1, 10)
    for name in CALENDAR_NAMES - {"calendar-days"}:
        assert not get_calendar(name, [_year(2026)]).is_working_day(saturday), name
    assert get_calendar("calendar-days").is_working_day(saturday)
    assert get_calendar("calendar-days").is_working_day(D(2026, 12, 25))


def _year(year: int, *days: date) -> HolidayYear:
    return HolidayYear(year=year, days=tuple(DatedDay(on=d, name="holiday") for d in days))


def test_eu_commission_calendar_uses_the_holidays_it_is_given_and_rolls_forward() -> None:
    plain = get_calendar("eu-commission", [_year(2026)])
    with_may_day = get_calendar("eu-commission", [_year(2026, D(2026, 5, 1))])
    assert plain.is_working_day(D(2026, 5, 1))
    assert not with_may_day.is_working_day(D(2026, 5, 1))
    # 10 days from Tue 21 Apr 2026 ends Fri 1 May (a holiday): rolls to Mon 4 May
    assert with_may_day.add(D(2026, 4, 21), 10, "calendar_days") == D(2026, 5, 1)
    assert with_may_day.add(D(2026, 4, 21), 10, "calendar_days", roll_forward=True) == D(2026, 5, 4)


def test_calendars_are_cached_per_name_and_extra_holidays() -> None:
    assert get_calendar("uk-foi") is get_calendar("uk-foi")
    assert get_calendar("eu-commission", [_year(2026, D(2026, 5, 1))]) is get_calendar(
        "eu-commission", (_year(2026, D(2026, 5, 1)),)
    )
    assert get_calendar("eu-commission", [_year(2026)]) is not get_calendar(
        "eu-commission", [_year(2026, D(2026, 5, 1))]
    )


def test_unknown_calendar_is_refused_with_the_known_names() -> None:
    with pytest.raises(KeyError, match=r"unknown calendar 'mars'.*uk-foi"):
        get_calendar("mars")


def test_months_keep_the_day_number_clipped_to_the_month_end() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert add_months(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert add_months(D(2026, 3, 31), -1) == D(2026, 2, 28)


def test_working_days_start_the_day_after_and_zero_days_is_the_start() -> None:
    uk_foi = get_calendar("uk-foi")
    friday = D(2026, 1, 9)
    assert uk_foi.add(friday, 1, "working_days") == D(2026, 1, 12)
    assert uk_foi.add(friday, 0, "working_days") == friday
    assert uk_foi.add(D(2026, 1, 12), -1, "working_days") == friday


def test_working_days_between_is_signed_and_counts_remaining_days() -> None:
    uk_foi = get_calendar("uk-foi")
    assert uk_foi.working_days_between(D(2026, 1, 7), D(2026, 2, 4)) == 20
    assert uk_foi.working_days_between(D(2026, 2, 4), D(2026, 1, 7)) == -20
    assert uk_foi.working_days_between(D(2026, 1, 9), D(2026, 1, 10)) == 0


days = st.dates(min_value=D(2024, 1, 1), max_value=D(2029, 12, 31))
amounts = st.integers(min_value=0, max_value=120)


@settings(deadline=None, max_examples=200)
@given(start=days, amount=st.integers(min_value=1, max_value=120))
def test_a_working_day_due_date_is_never_a_weekend_nor_a_uk_foi_holiday(
    start: date, amount: int
) -> None:
    uk_foi = get_calendar("uk-foi")
    due = uk_foi.add(start, amount, "working_days")
    assert due.weekday() < 5
    assert uk_foi.is_working_day(due)
    assert due > start


@settings(deadline=None, max_examples=200)
@given(start=days, n=amounts, m=amounts, name=st.sampled_from(sorted(CALENDAR_NAMES)))
def test_adding_n_then_m_working_days_equals_adding_n_plus_m(
    start: date, n: int, m: int, name: str
) -> None:
    cal = get_calendar(name, [_year(y) for y in range(2024, 2032)])
    once = cal.add(start, n + m, "working_days")
    assert cal.add(cal.add(start, n, "working_days"), m, "working_days") == once


@settings(deadline=None, max_examples=200)
@given(start=days, amount=amounts)
def test_working_days_between_inverts_adding_working_days(start: date, amount: int) -> None:
    uk_foi = get_calendar("uk-foi")
    assert uk_foi.working_days_between(start, uk_foi.add(start, amount, "working_days")) == amount


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        (D(2026, 3, 15), 6, D(2026, 9, 14)),  # REFERENCE §2: NoI Sun 15 Mar 2026
        (D(2027, 3, 31), 6, D(2027, 9, 30)),  # no 31 Sep: that month's last day
        (D(2026, 1, 30), 1, D(2026, 2, 28)),  # no 30 Feb: not "28 Feb minus a day"
        (D(2026, 1, 28), 1, D(2026, 2, 27)),
        (D(2026, 11, 1), 3, D(2027, 1, 31)),
    ],
)
def test_months_beginning_with_a_day_end_the_day_before_or_at_the_month_end(
    start: date, months: int, last_day: date
) -> None:
    assert add_months_beginning_with(start, months) == last_day
    assert get_calendar("calendar-days").add(start, months, "months", inclusive=True) == last_day
