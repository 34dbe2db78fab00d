"""Enforcement events: notices, representations and penalties."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import Code, Currency, Id, Money, Name, Period, Text

__all__ = [
    "NoticeIssued",
    "NoticeWithdrawn",
    "PenaltyImposed",
    "PenaltyPaid",
    "RepresentationsReceived",
]


class NoticeIssued(Event, frozen=True, kw_only=True, tag="notice_issued"):
    """The regulator issued a notice (or a formal step) of a kind its regime defines.

    The notice states when to respond either as a date (``respond_by``) or as a
    ``period`` counted from the day of issue, never both. ``court_application_on`` is
    the day the regulator applied to court (business disruption orders).
    ``proposed_penalty`` is a penalty a provisional notice proposes. ``urgent``: the
    notice says it is urgent (an information notice may then end before its appeal
    period). ``appeal_by``: the last day for an appeal as the appellant reckons it, when
    that differs from the regime's computation (it replaces the computed appeal window).
    """

    notice_id: Id
    notice_kind: Code
    reference: Name | None = None
    respond_by: date | None = None
    period: Period | None = None
    court_application_on: date | None = None
    duty: Text | None = None
    summary: Text | None = None
    proposed_penalty: Money | None = None
    currency: Currency | None = None
    urgent: bool = False
    appeal_by: date | None = None


class NoticeWithdrawn(Event, frozen=True, kw_only=True, tag="notice_withdrawn"):
    """The notice was withdrawn; its open deadlines are cancelled."""

    notice_id: Id
    reason: Text | None = None


class RepresentationsReceived(Event, frozen=True, kw_only=True, tag="representations_received"):
    """The subject answered a notice with representations (or written observations)."""

    notice_id: Id
    summary: Text | None = None


class PenaltyImposed(Event, frozen=True, kw_only=True, tag="penalty_imposed"):
    """A penalty of ``amount`` was imposed on ``basis``, payable by ``payable_by``.

    ``revenue`` is the measure the regime's cap uses (Ofcom: qualifying worldwide
    revenue; ICO and DSA: worldwide annual turnover) when it is known; ``penalty_kind``
    picks one of the regime's caps (the first by default). ``decide`` numbers
    ``penalty_id`` (``penalty-1``...) when absent.

    A daily penalty (OSA s.137) adds ``daily_rate`` a day from ``daily_from`` for at most
    ``daily_max_days`` days, until compliance: the day the deadline ``daily_until`` (the
    steps the decision requires) is met, if named; the three ``daily_*`` fields go
    together, and only for a penalty kind whose cap allows a daily rate.
    """

    amount: Money
    currency: Currency
    basis: Text
    penalty_id: Id | None = None
    payable_by: date | None = None
    revenue: Money | None = None
    penalty_kind: Code | None = None
    notice_id: Id | None = None
    daily_rate: Money | None = None
    daily_from: date | None = None
    daily_max_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] | None = None
    daily_until: Id | None = None


class PenaltyPaid(Event, frozen=True, kw_only=True, tag="penalty_paid"):
    """The penalty was paid (``decide`` picks the only unpaid penalty when no id is given)."""

    penalty_id: Id | None = None
    amount: Money | None = None
