"""Freedom of Information Act 2000 events (requests to any public authority)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import MAX_ITEMS, Currency, Money, Name, Period, Text

__all__ = [
    "ClarificationReceived",
    "ClarificationRequested",
    "Exemption",
    "FeePaid",
    "FeesNoticeIssued",
    "InternalReviewCompleted",
    "InternalReviewRequested",
    "PublicInterestExtension",
    "RegulatorComplaintLodged",
    "ResponseSent",
]

Exemption = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^s[0-9]{1,3}[A-Z]?(\([0-9a-z]{1,4}\)){0,3}$",
        description="A section of the FOI Act, e.g. 's44(1)' or 's27(1)(a)'.",
    ),
]


class ClarificationRequested(Event, frozen=True, kw_only=True, tag="clarification_requested"):
    """The authority asked the requester for clarification (s.1(3)): the clock stops."""

    summary: Text | None = None


class ClarificationReceived(Event, frozen=True, kw_only=True, tag="clarification_received"):
    """The requester clarified: the 20 working days start again from this day."""

    summary: Text | None = None


class FeesNoticeIssued(Event, frozen=True, kw_only=True, tag="fees_notice_issued"):
    """The authority issued a fees notice (s.9): days until payment do not count."""

    amount: Money
    currency: Currency = "GBP"


class FeePaid(Event, frozen=True, kw_only=True, tag="fee_paid"):
    """The requester paid the fee; the clock runs again."""

    amount: Money | None = None


class PublicInterestExtension(Event, frozen=True, kw_only=True, tag="public_interest_extension"):
    """The authority extended the response to ``extended_to`` to weigh the public interest.

    s.10(3) allows a further period "reasonable in the circumstances"; guidance caps it at
    20 more working days unless ``exceptional``.
    """

    extended_to: date
    exemptions: Annotated[list[Exemption], msgspec.Meta(max_length=MAX_ITEMS)] = []
    reason: Text | None = None
    exceptional: bool = False


class ResponseSent(Event, frozen=True, kw_only=True, tag="response_sent"):
    """The authority answered the request, citing ``exemptions`` for what it withheld.

    ``review_window`` (or ``review_by``) is the time the letter gave to ask for an internal
    review, e.g. two months from the date of the letter.
    """

    outcome: Literal[
        "provided", "partly_provided", "refused", "neither_confirm_nor_deny", "not_held"
    ]
    exemptions: Annotated[list[Exemption], msgspec.Meta(max_length=MAX_ITEMS)] = []
    review_window: Period | None = None
    review_by: date | None = None
    reference: Name | None = None


class InternalReviewRequested(Event, frozen=True, kw_only=True, tag="internal_review_requested"):
    """The requester asked for an internal review of the response."""

    summary: Text | None = None


class InternalReviewCompleted(Event, frozen=True, kw_only=True, tag="internal_review_completed"):
    """The internal review upheld, reversed or modified the original response."""

    outcome: Literal["upheld", "reversed", "modified"]
    summary: Text | None = None


class RegulatorComplaintLodged(Event, frozen=True, kw_only=True, tag="regulator_complaint_lodged"):
    """The requester complained to the regulator that oversees the authority's handling of
    requests (FOIA s.50: an application for a decision; the regime names the regulator).

    Stored before as ``ico_complaint_lodged``; those rows are read as this event.
    """

    reference: Name | None = None
