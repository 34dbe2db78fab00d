"""Due instants and reminder schedules, in the regime's local time across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from casemgmt.domain import due_instant, get_calendar, reminder_schedule, reminder_schedule_for
from casemgmt.domain.calendar.deadlines import offset_code
from casemgmt.domain.regime.model import ReminderOffset

from ._support import regime

D = date


def test_due_instant_is_the_end_of_the_local_day_in_utc() -> None:
    assert due_instant(D(2026, 2, 4), "Europe/London") == datetime(
        2026, 2, 4, 23, 59, 59, tzinfo=UTC
    )
    assert due_instant(D(2026, 4, 4), "Europe/London") == datetime(
        2026, 4, 4, 22, 59, 59, tzinfo=UTC
    )
    assert due_instant(D(2026, 2, 4), "Europe/Brussels") == datetime(
        2026, 2, 4, 22, 59, 59, tzinfo=UTC
    )


def test_due_instants_move_with_the_spring_clock_change_of_29_march_2026() -> None:
    before = due_instant(D(2026, 3, 28), "Europe/London")
    after = due_instant(D(2026, 3, 29), "Europe/London")
    assert (before.hour, after.hour) == (23, 22)


def test_reminders_either_side_of_25_october_2026_are_sent_one_hour_apart_in_utc() -> None:
    ofcom = regime("ofcom", "osa-2023")
    in_summer_time = dict(reminder_schedule(D(2026, 10, 23), "response_due", ofcom))
    in_winter_time = dict(reminder_schedule(D(2026, 10, 26), "response_due", ofcom))
    assert in_summer_time["0d"] == datetime(2026, 10, 23, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert in_winter_time["0d"] == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # 09:00 GMT
    assert in_winter_time["0d"] - in_summer_time["0d"] == timedelta(days=3, hours=1)
    # each reminder follows the offset of its own day: -5wd of 26 Oct is Mon 19 Oct (BST)
    assert in_winter_time["-5wd"] == datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    assert in_winter_time["+1d"] == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)


def test_reminder_schedule_follows_the_regime_offsets_on_working_days() -> None:
    foi = regime("ofcom", "foi-2000")
    schedule = reminder_schedule(D(2026, 2, 4), "response_due", foi)
    assert schedule == [
        ("-5wd", datetime(2026, 1, 28, 9, 0, tzinfo=UTC)),
        ("-1wd", datetime(2026, 2, 3, 9, 0, tzinfo=UTC)),
        ("0d", datetime(2026, 2, 4, 9, 0, tzinfo=UTC)),
        ("+1d", datetime(2026, 2, 5, 9, 0, tzinfo=UTC)),
    ]


def test_a_deadline_kind_can_have_its_own_reminder_offsets() -> None:
    foi = regime("ofcom", "foi-2000")
    schedule = reminder_schedule(D(2026, 4, 4), "internal_review_window", foi)
    assert schedule == [("0d", datetime(2026, 4, 4, 8, 0, tzinfo=UTC))]


def test_working_day_reminders_skip_holidays_and_weekends() -> None:
    offsets = [ReminderOffset(amount=1, unit="working_days", when="before")]
    # due Tue 7 Apr 2026: the working day before is Thu 2 Apr (Good Friday, Easter Monday)
    schedule = reminder_schedule_for(
        D(2026, 4, 7), offsets, get_calendar("uk-foi"), "Europe/London", time(9, 0)
    )
    assert schedule == [("-1wd", datetime(2026, 4, 2, 8, 0, tzinfo=UTC))]


def test_offset_codes_name_sign_amount_and_unit() -> None:
    assert offset_code(ReminderOffset(amount=5, unit="working_days", when="before")) == "-5wd"
    assert offset_code(ReminderOffset(amount=2, unit="calendar_days", when="after")) == "+2d"
    assert offset_code(ReminderOffset(amount=0, unit="calendar_days", when="on")) == "0d"


def test_duplicate_offsets_are_sent_once() -> None:
    offsets = [ReminderOffset(amount=0, unit="calendar_days", when="on")] * 2
    schedule = reminder_schedule_for(
        D(2026, 1, 9), offsets, get_calendar("calendar-days"), "Europe/London", time(9, 0)
    )
    assert len(schedule) == 1
