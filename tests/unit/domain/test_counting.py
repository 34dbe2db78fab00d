"""Counting as the law counts (REFERENCE §2, §3, §5, §6): after / beginning with, month
ends, roll-forward on the right calendar, end times, minimums, Art. 3(5), dated calendars;
and O(log n) arithmetic that equals a plain day-by-day reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casemgmt.domain.calendar.calendars import CALENDAR_NAMES, get_calendar
from casemgmt.domain.calendar.deadlines import due_instant
from casemgmt.domain.errors import CalendarYearUnavailable

from ._support import regime, registry

D = date
ONE = timedelta(days=1)


def _rule(regulator: str, code: str, rule_id: str):  # type: ignore[no-untyped-def]
    r = regime(regulator, code)
    found = r.deadline_rule(rule_id)
    assert found is not None, rule_id
    return r, found


# --- tribunal windows: 28 days, roll to the next E&W working day, close at 17:00 ---------


@pytest.mark.parametrize(
    ("sent", "due"),
    [
        (D(2026, 4, 27), D(2026, 5, 26)),  # day 28 is the Spring bank holiday Mon 25 May
        (D(2026, 3, 6), D(2026, 4, 7)),  # day 28 is Good Friday; Easter Monday follows
        (D(2026, 11, 27), D(2026, 12, 29)),  # day 28 is Christmas Day; Boxing Day substitute
        (D(2026, 3, 10), D(2026, 4, 7)),  # REFERENCE §6: a working day, nothing rolls
    ],
)
@pytest.mark.parametrize(
    ("regulator", "code", "rule_id"),
    [
        ("ico", "uk-gdpr", "ico_penalty_notice_appeal"),
        ("ico", "uk-gdpr", "ico_enforcement_notice_appeal"),
        ("ico", "uk-gdpr", "ico_information_notice_appeal"),
        ("ofcom", "foi-2000", "foi_decision_notice_appeal"),
    ],
)
def test_tribunal_appeal_windows_roll_to_the_next_working_day_and_close_at_17_00(
    sent: date, due: date, regulator: str, code: str, rule_id: str
) -> None:
    r, rule = _rule(regulator, code, rule_id)
    assert r.count(rule, sent).due_on == due
    assert rule.ends_at == "17:00"
    assert rule.roll_forward
    assert rule.calendar == "england-and-wales"


def test_a_17_00_due_instant_is_16_00_utc_in_summer_and_17_00_utc_in_winter() -> None:
    assert due_instant(D(2026, 5, 26), "Europe/London", "17:00") == datetime(
        2026, 5, 26, 16, 0, tzinfo=UTC
    )
    assert due_instant(D(2026, 12, 29), "Europe/London", "17:00") == datetime(
        2026, 12, 29, 17, 0, tzinfo=UTC
    )
    assert due_instant(D(2026, 12, 29), "Europe/London") == datetime(
        2026, 12, 29, 23, 59, 59, tzinfo=UTC
    )


# --- DPA Schedule 16: periods *beginning with* the day the notice is given -----------------


@pytest.mark.parametrize(
    ("given_on", "last_day"),
    [
        (D(2026, 3, 15), D(2026, 9, 14)),  # REFERENCE §2: the day before the corresponding date
        (D(2027, 3, 31), D(2027, 9, 30)),  # no 31 Sep: the month's last day
        (D(2026, 12, 10), D(2027, 6, 9)),
        (D(2026, 8, 31), D(2027, 2, 28)),  # no 31 Feb
        (D(2027, 8, 29), D(2028, 2, 28)),  # 29 Feb 2028 exists: the day before it
    ],
)
def test_six_months_beginning_with_the_notice_of_intent(given_on: date, last_day: date) -> None:
    r, rule = _rule("ico", "uk-gdpr", "ico_penalty_notice_window")
    assert rule.counting == "beginning_with"
    assert r.count(rule, given_on).due_on == last_day


def test_minimums_as_data_give_the_earliest_lawful_date() -> None:
    ico = regime("ico", "uk-gdpr")
    dsa = regime("eu-commission", "dsa")
    _, reps = _rule("ico", "uk-gdpr", "ico_representations_period")
    _, pay = _rule("ico", "uk-gdpr", "ico_penalty_payable")
    _, info = _rule("ico", "uk-gdpr", "ico_information_notice_response")
    _, observations = _rule("eu-commission", "dsa", "dsa_observations_period")
    # 21 days beginning with Thu 10 Dec 2026 (REFERENCE §6)
    assert ico.earliest_lawful(reps, D(2026, 12, 10)).due_on == D(2026, 12, 30)  # type: ignore[union-attr]
    # 28 days beginning with the penalty notice; no roll-forward (Sat 6 Jun stays)
    assert ico.earliest_lawful(pay, D(2026, 5, 10)).due_on == D(2026, 6, 6)  # type: ignore[union-attr]
    # the information notice may not end before its appeal period (unless urgent)
    assert info.minimum is not None
    assert (info.minimum.not_before, info.minimum.unless) == ("appeal_window", "urgent")
    # DSA Art. 79: 14 days, rolled (REFERENCE §3: notified Thu 3 Dec 2026 -> Thu 17 Dec)
    assert dsa.earliest_lawful(observations, D(2026, 12, 3)).due_on == D(2026, 12, 17)  # type: ignore[union-attr]
    assert (
        ico.earliest_lawful(ico.deadline_rule("ico_penalty_notice_appeal"), D(2026, 1, 1)) is None
    )  # type: ignore[arg-type]


def test_a_dsa_period_of_two_days_holds_two_working_days_art_3_5() -> None:
    dsa = regime("eu-commission", "dsa")
    cal = dsa.business_calendar()
    # 2 days after Wed 23 Dec 2026: Fri 25 Dec; Commission holidays to Fri 1 Jan, then a
    # weekend: rolls to Mon 4 Jan, which holds one working day only -> Tue 5 Jan 2027
    end = cal.period(D(2026, 12, 23), 2, "calendar_days", roll_forward=True, min_working_days=2)
    assert end.rolled == D(2027, 1, 4)
    assert end.due_on == D(2027, 1, 5)
    # a 2-day period that already holds two working days is not stretched
    plain = cal.period(D(2026, 6, 1), 2, "calendar_days", roll_forward=True, min_working_days=2)
    assert (plain.due_on, plain.floored) == (D(2026, 6, 3), None)


# --- dated calendars -------------------------------------------------------------------------


def test_commission_holidays_are_dated_data_complete_for_2025_to_2027_and_unconfirmed() -> None:
    dsa = regime("eu-commission", "dsa")
    years = {y.year: y for y in dsa.holiday_years}
    assert set(years) == {2025, 2026, 2027}
    assert all(not y.confirmed and y.source for y in years.values())
    cal = dsa.business_calendar()
    # 2025 was incomplete: Easter, Ascension, Whit Monday and 21 July are there now
    for day in (D(2025, 4, 18), D(2025, 4, 21), D(2025, 5, 29), D(2025, 6, 9), D(2025, 7, 21)):
        assert not cal.is_working_day(day), day
    assert cal.holiday(D(2026, 4, 2)).name == "Maundy Thursday"  # type: ignore[union-attr]
    assert not cal.confirmed(2026)


def test_counting_into_a_year_without_a_holiday_list_is_refused_naming_calendar_and_year() -> None:
    cal = regime("eu-commission", "dsa").business_calendar()
    with pytest.raises(CalendarYearUnavailable) as caught:
        cal.add(D(2027, 12, 20), 10, "working_days")
    assert (caught.value.calendar, caught.value.year) == ("eu-commission", 2028)
    with pytest.raises(CalendarYearUnavailable):
        cal.working_days_between(D(2026, 1, 5), D(2031, 1, 5))
    with pytest.raises(CalendarYearUnavailable) as far:
        get_calendar("uk-foi").working_days_between(D(2026, 1, 1), D(9990, 1, 1))
    assert far.value.year == 2201


def test_the_15_june_2026_scottish_holiday_is_in_uk_foi() -> None:
    uk_foi = get_calendar("uk-foi")
    assert not uk_foi.is_working_day(D(2026, 6, 15))
    assert uk_foi.holiday(D(2026, 6, 15)).where == "Scotland"  # type: ignore[union-attr]
    assert get_calendar("england-and-wales").is_working_day(D(2026, 6, 15))


# --- O(log n) arithmetic equals the day-by-day reference ----------------------------------


def _reference_between(cal, start: date, end: date) -> int:  # type: ignore[no-untyped-def]
    sign, (a, b) = (1, (start, end)) if end >= start else (-1, (end, start))
    count, day = 0, a
    while day < b:
        day += ONE
        count += cal.is_working_day(day)
    return sign * count


def _reference_add(cal, start: date, amount: int) -> date:  # type: ignore[no-untyped-def]
    step, day, left = (ONE if amount >= 0 else -ONE), start, abs(amount)
    while left:
        day += step
        left -= cal.is_working_day(day)
    return day


UK = sorted(CALENDAR_NAMES - {"eu-commission"})
days = st.dates(min_value=D(1903, 1, 1), max_value=D(2197, 12, 31))


@settings(deadline=None, max_examples=300)
@given(start=days, span=st.integers(-800, 800), name=st.sampled_from(UK))
def test_working_days_between_equals_the_day_by_day_reference(
    start: date, span: int, name: str
) -> None:
    cal = get_calendar(name)
    end = start + timedelta(days=span)
    assert cal.working_days_between(start, end) == _reference_between(cal, start, end)


@settings(deadline=None, max_examples=300)
@given(start=days, amount=st.integers(-300, 300), name=st.sampled_from(UK))
def test_adding_working_days_equals_the_day_by_day_reference(
    start: date, amount: int, name: str
) -> None:
    cal = get_calendar(name)
    assert cal.add_working_days(start, amount) == _reference_add(cal, start, amount)


@settings(deadline=None, max_examples=200)
@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 6, 30)),
    amount=st.integers(-60, 80),
)
def test_the_commission_calendar_equals_the_reference_too(start: date, amount: int) -> None:
    cal = regime("eu-commission", "dsa").business_calendar()
    end = start + timedelta(days=amount)
    if start.year == 2025 and amount < 0 and end.year < 2025:
        return
    assert cal.working_days_between(start, end) == _reference_between(cal, start, end)


def test_working_days_across_three_centuries_match_the_reference() -> None:
    cal = get_calendar("uk-foi")
    total = cal.working_days_between(D(1900, 1, 1), D(2200, 12, 31))
    assert total == _reference_between(cal, D(1900, 1, 1), D(2200, 12, 31))


@settings(deadline=None, max_examples=300)
@given(
    start=st.dates(min_value=D(1901, 1, 1), max_value=D(2190, 12, 31)),
    amount=st.integers(1, 400),
    unit=st.sampled_from(["calendar_days", "months"]),
)
def test_beginning_with_ends_one_day_before_after_except_at_month_ends(
    start: date, amount: int, unit: str
) -> None:
    cal = get_calendar("calendar-days")
    after = cal.period(start, amount, unit, counting="after").due_on  # type: ignore[arg-type]
    within = cal.period(start, amount, unit, counting="beginning_with").due_on  # type: ignore[arg-type]
    if unit == "months" and after.day != start.day:
        # no corresponding date in the later month: both end on that month's last day
        assert within == after
    else:
        assert within == after - ONE


def test_every_shipped_rule_names_its_citation() -> None:
    for r in registry().all():
        for rule in r.deadline_rules:
            assert rule.citation, rule.id


def test_a_duty_ending_at_17_00_is_missed_from_17_00_not_from_midnight() -> None:
    from casemgmt.domain import RuleViolation
    from casemgmt.domain.events import DeadlineMissed, DeadlineSet

    from ._support import open_case

    day = D(2026, 5, 26)
    case = open_case("ico", "uk-gdpr", D(2026, 5, 1), today=day)
    case.do(
        DeadlineSet(
            occurred_on=D(2026, 5, 1), deadline_id="file-1", kind="response_due",
            label="File the response", due_on=day, ends_at="17:00", party="subject",
            obligation="duty",
        )
    )  # fmt: skip
    assert case.deadline("file-1").due_at == datetime(2026, 5, 26, 16, 0, tzinfo=UTC)
    early = datetime(2026, 5, 26, 15, 59, tzinfo=UTC)  # 16:59 BST
    with pytest.raises(RuleViolation) as refused:
        case.do(DeadlineMissed(occurred_on=day, occurred_at=early, deadline_id="file-1"))
    assert refused.value.rule == "deadline_not_yet_due"
    late = datetime(2026, 5, 26, 16, 30, tzinfo=UTC)  # 17:30 BST, the same day
    case.do(DeadlineMissed(occurred_on=day, occurred_at=late, deadline_id="file-1"))
    assert case.deadline("file-1").status == "missed"
