"""Deadline events, and the system's reminder events."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from casemgmt.domain.calendar.explain import Explanation
from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import Code, Id, Name, Text
from casemgmt.domain.parties import Obligation, Party

__all__ = [
    "DeadlineCancelled",
    "DeadlineClosed",
    "DeadlineExtended",
    "DeadlineMet",
    "DeadlineMissed",
    "DeadlinePaused",
    "DeadlineSet",
    "ExtensionAgreed",
    "ReminderFailed",
    "ReminderSent",
]

Attempts = Annotated[int, msgspec.Meta(ge=1, le=1000)]
LocalTime = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Local time of day the period ends (HH:MM); absent: the end of the day.",
    ),
]


class DeadlineSet(Event, frozen=True, kw_only=True, tag="deadline_set"):
    """A dated obligation was put on the case (by hand, or by the regime rule ``rule``).

    ``basis_on`` is the day the period runs from, ``trigger`` the event type that
    produced it, ``notice_id`` / ``penalty_id`` the notice or penalty it belongs to.
    ``party`` must (``duty``) or may (``window``) act by then: ``decide`` fills both from
    the regime's ``[deadline_kinds]``; a kind the regime does not declare must state them.
    ``ends_at`` is the local time the period ends on ``due_on`` (tribunal filings:
    17:00), else the end of that day. ``explanation`` is filled in by ``decide`` (the
    steps that gave ``due_on``, or who set it by hand); a posted one is replaced.
    """

    deadline_id: Id
    kind: Code
    label: Name
    due_on: date
    rule: Code | None = None
    basis_on: date | None = None
    trigger: Code | None = None
    notice_id: Id | None = None
    penalty_id: Id | None = None
    party: Party | None = None
    obligation: Obligation | None = None
    ends_at: LocalTime | None = None
    explanation: Explanation | None = None


class DeadlineMet(Event, frozen=True, kw_only=True, tag="deadline_met"):
    """The obligation was fulfilled (by hand, or by the regime's "meets" rule ``rule``).

    Met after its due day (also after it was recorded missed), it is met late.
    """

    deadline_id: Id
    rule: Code | None = None
    trigger: Code | None = None


class DeadlineExtended(Event, frozen=True, kw_only=True, tag="deadline_extended"):
    """The deadline now falls on ``due_on``; a paused deadline runs again.

    ``basis_on`` is set when the period restarted from a new day (an FOI clarification).
    ``explanation`` (filled in by ``decide``) says why the deadline now falls on ``due_on``.
    """

    deadline_id: Id
    due_on: date
    reason: Text
    rule: Code | None = None
    basis_on: date | None = None
    explanation: Explanation | None = None


class ExtensionAgreed(Event, frozen=True, kw_only=True, tag="extension_agreed"):
    """The parties agreed to extend the statutory period of ``deadline_id`` to
    ``extended_to``, where the law allows it (DPA 2018 Sch. 16 para 2(3))."""

    deadline_id: Id
    extended_to: date
    agreed_with: Name | None = None
    reason: Text | None = None


class DeadlineMissed(Event, frozen=True, kw_only=True, tag="deadline_missed"):
    """The due day of a duty passed with the duty unfulfilled (a window closes instead)."""

    deadline_id: Id


class DeadlineClosed(Event, frozen=True, kw_only=True, tag="deadline_closed"):
    """A window ended unused: nobody acted within it. No one is to blame; a party that
    could have acted (appealed, asked for a review) has lost that right."""

    deadline_id: Id


class DeadlineCancelled(Event, frozen=True, kw_only=True, tag="deadline_cancelled"):
    """The obligation no longer applies (withdrawn notice, closed case, or by hand).

    Cancelling a missed deadline (waiving the breach) needs a ``reason``.
    """

    deadline_id: Id
    reason: Text | None = None
    rule: Code | None = None


class DeadlinePaused(Event, frozen=True, kw_only=True, tag="deadline_paused"):
    """The clock of the deadline stopped under the regime rule ``rule`` (derived only)."""

    deadline_id: Id
    reason: Text
    rule: Code


class ReminderSent(Event, frozen=True, kw_only=True, tag="reminder_sent"):
    """A reminder about ``deadline_id`` was delivered to a subscriber."""

    reminder_id: Id
    subscription_id: Id
    deadline_id: Id
    attempts: Attempts = 1
    offset: Annotated[str, msgspec.Meta(pattern=r"^[+-]?[0-9]{1,4}(wd|d)$")] | None = None
    channel: Code | None = None


class ReminderFailed(Event, frozen=True, kw_only=True, tag="reminder_failed"):
    """Delivering a reminder failed for good after ``attempts`` tries (dead-lettered)."""

    reminder_id: Id
    subscription_id: Id
    deadline_id: Id
    attempts: Attempts
    error: Text
