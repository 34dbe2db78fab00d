"""The deadline queue as an iCalendar (RFC 5545) feed, built with the ``icalendar`` package.

One all-day event per deadline on its due date, with a UID stable across requests (the
case and deadline ids), so calendar apps update entries instead of duplicating them. Each
says who must act, duty or window, and whether it is ours (``X-CASEMGMT-*`` properties
and categories too).
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
    side = "ours" if d.ours else "theirs"
    status = "" if d.status == "open" else f" ({d.status.replace('_', ' ')})"
    event.add("summary", f"[{d.regulator}] [{side}: {d.party} {d.obligation}] {d.label}{status}")
    event.add("description", _description(d))
    event.add("categories", [d.regulator, d.kind, d.party, d.obligation, side])
    event.add("x-casemgmt-party", d.party)
    event.add("x-casemgmt-obligation", d.obligation)
    event.add("x-casemgmt-side", side)
    event.add("x-casemgmt-status", d.status)
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
    side = "ours" if d.ours else "theirs"
    text = (
        f"Case {d.case_id}: {d.title} — {d.subject}\nDeadline {d.deadline_id} ({d.kind}), "
        f"due {d.due_on.isoformat()} ({closes}, {d.due_at.isoformat()} UTC).\n"
        f"Who must act: {d.party} ({d.obligation}; {side}). Status: {d.status}."
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
