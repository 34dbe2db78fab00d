"""A deadline as a team sees it: days left only while it stands, days late kept once met
late, overdue for a missed duty, standing from our side (issue #10 item 2)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from casemgmt.application.readmodels import DeadlineRow
from casemgmt.application.views import deadline_view
from casemgmt.domain.calendar.calendars import get_calendar

DUE = date(2026, 3, 2)  # a Monday
TODAY = date(2026, 3, 16)
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
CALENDAR = get_calendar("england-and-wales")


def row(
    status: str, *, ours: bool = True, obligation: str = "duty", **fields: object
) -> DeadlineRow:
    values: dict[str, object] = {
        "deadline_id": "d1",
        "case_id": "c1",
        "regulator": "ofcom",
        "regime": "osa-2023",
        "kind": "response_due",
        "label": "respond",
        "due_on": DUE,
        "due_at": datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC),
        "status": status,
        "rule": None,
        "calendar": "england-and-wales",
        "timezone": "Europe/London",
        "ours": ours,
        "obligation": obligation,
    }
    values.update(fields)
    return DeadlineRow(**values)  # type: ignore[arg-type]


def test_a_missed_duty_is_overdue_and_counts_days_late_with_no_days_remaining() -> None:
    v = deadline_view(row("missed", settled_on=date(2026, 3, 3)), TODAY, NOW, CALENDAR)
    assert (v.overdue, v.days_remaining, v.working_days_remaining) == (True, None, None)
    assert (v.days_late, v.working_days_late, v.standing) == (14, 10, "breach")


def test_a_duty_met_late_keeps_its_days_late_and_is_done() -> None:
    v = deadline_view(row("met_late", settled_on=date(2026, 3, 5)), TODAY, NOW, CALENDAR)
    assert (v.overdue, v.days_remaining, v.days_late, v.working_days_late) == (False, None, 3, 3)
    assert v.standing == "done"


def test_met_closed_and_cancelled_deadlines_carry_no_days() -> None:
    for status in ("met", "closed", "cancelled"):
        v = deadline_view(row(status, settled_on=DUE), TODAY, NOW, CALENDAR)
        assert (v.days_remaining, v.working_days_remaining, v.days_late) == (None, None, None)
        assert v.overdue is False


def test_their_duty_past_due_is_overdue_on_their_side() -> None:
    v = deadline_view(row("open", ours=False), TODAY, NOW, CALENDAR)
    assert (v.overdue, v.side, v.standing, v.days_remaining) == (
        True,
        "theirs",
        "their_overdue",
        -14,
    )


def test_a_window_past_due_is_never_overdue() -> None:
    ours = deadline_view(row("closed", obligation="window"), TODAY, NOW, CALENDAR)
    theirs = deadline_view(row("open", ours=False, obligation="window"), TODAY, NOW, CALENDAR)
    assert (ours.overdue, ours.standing) == (False, "lost_right")
    assert (theirs.overdue, theirs.standing) == (False, "theirs")
