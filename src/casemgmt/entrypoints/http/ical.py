"""The deadline queue as an iCalendar (RFC 5545) feed, built with the ``icalendar`` package.

One all-day event per open deadline on its due date, with a UID stable across requests
(the case and deadline ids), so calendar apps update entries instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from casemgmt.application.views import DeadlineView

__all__ = ["deadlines_calendar"]

UID_DOMAIN = "casemgmt"


def _event(d: DeadlineView, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"{d.case_id}/{d.deadline_id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", d.due_on)
    event.add("dtend", d.due_on + timedelta(days=1))
    event.add("summary", f"[{d.regulator}] {d.label} — {d.subject}")
    event.add("description", _description(d))
    event.add("categories", [d.regulator, d.kind])
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Due: {d.label}")
    alarm.add("trigger", timedelta(days=-1))
    event.add_component(alarm)
    return event


def _description(d: DeadlineView) -> str:
    """The case, the deadline, its closing instant, and why it falls on that day."""
    e = d.explanation
    closes = f"closes {e.ends_at}" if e and e.ends_at else "end of day"
    text = (
        f"Case {d.case_id}: {d.title}\nDeadline {d.deadline_id} ({d.kind}), "
        f"due {d.due_on.isoformat()} ({closes}, {d.due_at.isoformat()} UTC)."
    )
    if e is not None:
        text += f"\nWhy this day: {e.sentence}."
    if not d.calendar_confirmed:
        text += f"\nThe {d.calendar} holiday list for {d.due_on.year} is not yet confirmed."
    return text


def deadlines_calendar(deadlines: Iterable[DeadlineView], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//casemgmt//deadline queue//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "casemgmt deadlines")
    calendar.add("refresh-interval;value=duration", "PT15M")
    for deadline in deadlines:
        calendar.add_component(_event(deadline, now))
    return bytes(calendar.to_ical())
