"""Deadline instants and reminder schedules, in the regime's local time.

A due date is a local date; it ends at 23:59:59 local time unless its rule names a time
(tribunal filings: 17:00), so its UTC instant (and every reminder's) moves with daylight
saving (Europe/London: 29 Mar and 25 Oct 2026).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from casemgmt.domain.calendar.calendars import BusinessCalendar
from casemgmt.domain.errors import CalendarYearUnavailable
from casemgmt.domain.regime.model import Regime, ReminderOffset

__all__ = [
    "due_instant",
    "local_instant",
    "offset_code",
    "reminder_schedule",
    "reminder_schedule_for",
]

_END_OF_DAY = time(23, 59, 59)


def local_instant(day: date, at: time, tz: str) -> datetime:
    """The UTC instant of local wall-clock time ``at`` on ``day`` in time zone ``tz``."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def due_instant(due_on: date, tz: str, ends_at: str | None = None) -> datetime:
    """The UTC instant the period ends: ``ends_at`` (``"17:00"``) on ``due_on`` in ``tz``,
    else the end of that local day (23:59:59)."""
    at = time.fromisoformat(ends_at) if ends_at else _END_OF_DAY
    return local_instant(due_on, at, tz)


def offset_code(offset: ReminderOffset) -> str:
    """``"-5wd"``, ``"0d"``, ``"+1d"``: sign for before/after, ``wd`` or ``d`` for the unit."""
    if offset.when == "on" or offset.amount == 0:
        return "0d"
    sign = "-" if offset.when == "before" else "+"
    return f"{sign}{offset.amount}{'wd' if offset.unit == 'working_days' else 'd'}"


def _send_day(due_on: date, offset: ReminderOffset, calendar: BusinessCalendar) -> date:
    if offset.when == "on":
        return due_on
    amount = -offset.amount if offset.when == "before" else offset.amount
    if offset.unit == "working_days":
        try:
            return calendar.add_working_days(due_on, amount)
        except CalendarYearUnavailable:
            # no holiday list for that year: remind early rather than not at all
            return due_on + timedelta(days=amount * 7 // 5 - (1 if amount < 0 else 0))
    return due_on + timedelta(days=amount)


def reminder_schedule_for(
    due_on: date,
    offsets: Sequence[ReminderOffset],
    calendar: BusinessCalendar,
    tz: str,
    send_time: time,
) -> list[tuple[str, datetime]]:
    """``[(offset code, UTC send instant)]`` for a deadline due on ``due_on``, by instant.

    Each reminder goes out at ``send_time`` local time on its day; duplicate codes are
    dropped. Instants already past are included: the caller filters by its own clock.
    """
    seen: dict[str, datetime] = {}
    for offset in offsets:
        code = offset_code(offset)
        if code not in seen:
            seen[code] = local_instant(_send_day(due_on, offset, calendar), send_time, tz)
    return sorted(seen.items(), key=lambda item: item[1])


def reminder_schedule(due_on: date, kind: str, regime: Regime) -> list[tuple[str, datetime]]:
    """The regime's reminders for a deadline of ``kind`` due on ``due_on``.

    Uses the regime's offsets for ``kind`` (or its defaults), its calendar for working-day
    offsets, its time zone and its local send time.
    """
    policy = regime.reminders
    return reminder_schedule_for(
        due_on,
        policy.offsets_for(kind),
        regime.business_calendar(),
        regime.timezone,
        time.fromisoformat(policy.send_time),
    )
