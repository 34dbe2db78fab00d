"""A seeded timeline builder for synthetic cases: days move forward, never past ``until``.

A path (``paths.py``) adds events one after another, drawing gaps and choices from the
case's own ``random.Random``. When the next step would fall after ``until`` (the day the
demo data runs to), the builder raises ``Stop``: that step has not happened yet, so the
case rests where it is, with whatever deadlines are still open. The builder tracks the
deadlines a path creates (``expect``); ``settle`` then records those long past due as
missed (a duty) or closed unused (a window), so that what stays overdue is recent, as in a
queue someone works through.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Literal, TypeVar

from casemgmt.domain.events import CaseClosed, DeadlineClosed, DeadlineMet, DeadlineMissed
from casemgmt.domain.events.base import Event

__all__ = ["WINDOW_KINDS", "Stop", "Timeline", "weekday"]

#: The deadline kinds the shipped regimes declare windows (a test holds them equal): when
#: one passes unused it closes; only a duty is missed.
WINDOW_KINDS = frozenset(
    {
        "appeal_window",
        "fee_due",
        "internal_review_window",
        "observations_due",
        "penalty_notice_due",
        "representations_due",
        "retention_ends",
    }
)

T = TypeVar("T")


class Stop(Exception):
    """The case's next step lies after the demo's last day: it rests here."""


def weekday(day: date) -> date:
    """``day``, or the Monday after it if it falls on a weekend (notices name working days)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class Timeline:
    """The events of one synthetic case, built in order from ``start``."""

    def __init__(self, rng: random.Random, start: date, until: date, subject: str) -> None:
        self.rng = rng
        self.day = start
        self.until = until
        self.subject = subject
        self.events: list[Event] = []
        self.pending: dict[str, tuple[date, Literal["met", "missed"]]] = {}

    # -- choices ------------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def stop_if(self, p: float) -> None:
        """With probability ``p`` nothing more has happened to the case (yet)."""
        if self.chance(p):
            raise Stop

    # -- days -----------------------------------------------------------------------------

    def later(self, lo: int, hi: int) -> date:
        """Move ``lo``..``hi`` days on (``Stop`` past the last day) and return the new day."""
        return self._move(self.day + timedelta(days=self.rng.randint(lo, hi)))

    def by(self, due: date) -> date:
        """Move to a day after today and no later than ``due`` (tomorrow if ``due`` passed)."""
        first = self.day + timedelta(days=1)
        span = max((due - first).days, 0)
        return self._move(first + timedelta(days=self.rng.randint(0, span)))

    def after(self, due: date, lo: int, hi: int) -> date:
        """Move to ``lo``..``hi`` days after ``due`` (or after today, if that is later)."""
        base = max(self.day, due)
        return self._move(base + timedelta(days=self.rng.randint(lo, hi)))

    def ahead(self, lo: int, hi: int) -> date:
        """A working day ``lo``..``hi`` days from today, for a date a notice states."""
        return weekday(self.day + timedelta(days=self.rng.randint(lo, hi)))

    def _move(self, day: date) -> date:
        if day > self.until:
            raise Stop
        self.day = day
        return day

    # -- events ---------------------------------------------------------------------------

    def add(self, event: Event) -> None:
        self.events.append(event)

    def expect(self, deadline_id: str, due: date, end: Literal["met", "missed"] = "missed") -> None:
        """A deadline the last event set: if nothing resolves it, ``settle`` records ``end``."""
        self.pending[deadline_id] = (due, end)

    def done(self, deadline_id: str) -> None:
        """The deadline was met, missed, paused or cancelled by the last event."""
        self.pending.pop(deadline_id, None)

    def close(self, reason: str) -> None:
        """Close the case today (which cancels its open deadlines)."""
        self.add(CaseClosed(occurred_on=self.day, reason=reason))
        self.pending.clear()

    def settle(self, grace_days: int) -> None:
        """Record deadlines due more than ``grace_days`` before the last day as ended."""
        horizon = self.until - timedelta(days=grace_days)
        for deadline_id, (due, end) in sorted(self.pending.items(), key=lambda p: p[1]):
            if due >= horizon:
                continue
            day = min(self.until, max(self.day, due) + timedelta(days=self.rng.randint(1, 10)))
            if end == "met":
                self.add(DeadlineMet(occurred_on=due, deadline_id=deadline_id))
            else:
                self.add(_ended(deadline_id, day))
        self.pending.clear()

    def answer(
        self,
        deadline_id: str,
        due: date,
        reply: Callable[[date], Event] | None = None,
        *,
        met: float = 0.75,
        missed: float = 0.08,
    ) -> bool:
        """The obligation is met by ``due`` (True), recorded missed (False), or still open
        with nothing more done (``Stop``). ``reply`` is the event that meets it; without
        one, the deadline is marked met by hand."""
        draw = self.rng.random()
        self.expect(deadline_id, due)
        if draw < met:
            day = self.by(due)
            self.done(deadline_id)
            self.add(reply(day) if reply else DeadlineMet(occurred_on=day, deadline_id=deadline_id))
            return True
        if draw < met + missed:
            self.add(_ended(deadline_id, self.after(due, 1, 10)))
            self.done(deadline_id)
            return False
        raise Stop

    def lapse(self, deadline_id: str, due: date) -> None:
        """A window nobody used: recorded closed a few days after it ended."""
        self.expect(deadline_id, due)
        self.add(_ended(deadline_id, self.after(due, 1, 5)))
        self.done(deadline_id)


def _ended(deadline_id: str, day: date) -> Event:
    """A window passed unused closes; a duty passed unmet is missed."""
    if deadline_id.split("-", 1)[0] in WINDOW_KINDS:
        return DeadlineClosed(occurred_on=day, deadline_id=deadline_id)
    return DeadlineMissed(occurred_on=day, deadline_id=deadline_id)
