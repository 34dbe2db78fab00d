"""The deadline queue as an iCalendar (RFC 5545) feed, built with the ``icalendar`` package.

One all-day event per deadline on its due date, with a UID stable across requests (the
case and deadline ids), so calendar apps update entries instead of duplicating them. Each
links to the case's dashboard page (``URL``, and in the description), and its summary
says whose deadline it is (``Our duty``, ``Their window (requester)``) and, once it is
settled, how (``MET``, ``MISSED``, ``CLOSED``...), so a met or missed deadline stays in the
calendar marked as such instead of vanishing. ``X-CASEMGMT-*`` properties and categories
carry the same for filtering.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import quote

from icalendar import Alarm, Calendar, Event

from casemgmt.application.views import DeadlineView

__all__ = ["case_url", "deadlines_calendar", "summary"]

UID_DOMAIN = "casemgmt"
#: How a settled deadline reads at the start of its summary (open ones say nothing).
SETTLED = {
    "met": "MET",
    "met_late": "MET LATE",
    "missed": "MISSED",
    "closed": "CLOSED",
    "cancelled": "CANCELLED",
    "paused": "PAUSED",
}


def case_url(base_url: str, case_id: str) -> str:
    """The case's dashboard page under ``base_url`` (scheme and host the feed was read at)."""
    return f"{base_url.rstrip('/')}/dashboard/cases/{quote(case_id, safe='')}"


def summary(d: DeadlineView) -> str:
    """``MISSED · [ofcom] Our duty (regulator): Respond to the request``: how it ended
    (if it has), the regulator, whose it is and who acts, the label."""
    whose = f"{'Our' if d.ours else 'Their'} {d.obligation} ({d.party})"
    status = SETTLED.get(d.status)
    head = f"{status} · " if status else ""
    if d.status == "missed" and not d.ours:
        head = "MISSED (theirs) · "
    return f"{head}[{d.regulator}] {whose}: {d.label}"


def _event(d: DeadlineView, stamp: datetime, base_url: str) -> Event:
    event = Event()
    event.add("uid", f"{d.case_id}/{d.deadline_id}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", d.due_on)
    event.add("dtend", d.due_on + timedelta(days=1))
    side = "ours" if d.ours else "theirs"
    url = case_url(base_url, d.case_id)
    event.add("summary", summary(d))
    event.add("description", _description(d, url))
    event.add("url", url)
    event.add("categories", [d.regulator, d.kind, d.party, d.obligation, side])
    event.add("x-casemgmt-party", d.party)
    event.add("x-casemgmt-obligation", d.obligation)
    event.add("x-casemgmt-side", side)
    event.add("x-casemgmt-status", d.status)
    event.add("transp", "TRANSPARENT")
    if d.status in ("open", "paused"):  # no alarm for what is settled
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Due: {d.label}")
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
    return event


def _description(d: DeadlineView, url: str) -> str:
    """The case, the deadline, its closing instant, and why it falls on that day."""
    e = d.explanation
    closes = f"closes {e.ends_at}" if e and e.ends_at else "end of day"
    side = "ours" if d.ours else "theirs"
    text = (
        f"Case {d.case_id}: {d.title} — {d.subject}\nDeadline {d.deadline_id} ({d.kind}), "
        f"due {d.due_on.isoformat()} ({closes}, {d.due_at.isoformat()} UTC).\n"
        f"Who must act: {d.party} ({d.obligation}; {side}). Status: {d.status}."
        f"\nCase page: {url}"
    )
    if e is not None:
        text += f"\nWhy this day: {e.sentence}."
    if not d.calendar_confirmed:
        text += f"\nThe {d.calendar} holiday list for {d.due_on.year} is not yet confirmed."
    return text


def deadlines_calendar(
    deadlines: Iterable[DeadlineView], now: datetime, base_url: str = "http://127.0.0.1:8000"
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//casemgmt//deadline queue//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "casemgmt deadlines")
    calendar.add("refresh-interval;value=duration", "PT15M")
    # DTSTAMP is the day, not the instant: the same deadlines give the same bytes all day,
    # so the feed's ETag holds and a calendar app's If-None-Match gets a 304.
    stamp = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for deadline in deadlines:
        calendar.add_component(_event(deadline, stamp, base_url))
    return bytes(calendar.to_ical())
