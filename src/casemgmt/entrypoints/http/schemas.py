"""Request and response bodies of the HTTP API that are not domain or view structs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from casemgmt.application.auth import Role
from casemgmt.application.views import EnvelopeView
from casemgmt.domain.events.fields import Code, Codes, Id, Name, Names, check_dates
from casemgmt.domain.parties import OurParty

__all__ = [
    "AppendedEvents",
    "DueDateRequest",
    "EventPage",
    "FeedTokenCreated",
    "FeedTokenRequest",
    "FeedTokenView",
    "HealthResponse",
    "KeyCreated",
    "KeyRequest",
    "KeyView",
    "LiveResponse",
    "OpenCaseRequest",
]


class OpenCaseRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Open a case. For an FOI request ``opened_on`` is the day it was received.

    ``our_party``: the side of the case the team tracking it is on (``regulator``,
    ``subject`` or ``requester``); default the deployment's (``CASEMGMT_OUR_PARTY``).
    ``case_id`` begins with the regulator's code and ``-`` (``ofcom-osa-2026-0001``;
    otherwise 422, rule ``case_id_namespace``); omitted, one is generated.
    """

    regulator: Code
    regime: Code
    subject: Name
    title: Name
    opened_on: date
    related_parties: Names = []
    reference: Name | None = None
    case_id: Id | None = None
    received_on: date | None = None
    opened_at: datetime | None = None
    our_party: OurParty | None = None

    def __post_init__(self) -> None:
        check_dates(self)


class AppendedEvents(msgspec.Struct, frozen=True, kw_only=True):
    case_id: str
    version: int
    events: list[EnvelopeView]
    replayed: bool = False


class EventPage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A page of events. ``total``: how many events the case has, on a case's timeline
    (read whole anyway, so counting is free); absent from the global feed, which is
    not counted."""

    items: list[EnvelopeView]
    next_cursor: str | None
    total: int | None = None


class DueDateRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A regime ``rule`` and the trigger day ``start`` (a stated rule also takes the stated
    ``amount`` and ``unit``), or a ``calendar`` with ``amount``, ``unit`` and ``counting``
    (``inclusive = true`` is ``counting = "beginning_with"``)."""

    start: date
    rule: Code | None = None
    calendar: Code | None = None
    amount: Annotated[int, msgspec.Meta(ge=-3660, le=3660)] | None = None
    unit: Literal["working_days", "calendar_days", "months"] | None = None
    counting: Literal["after", "beginning_with"] = "after"
    inclusive: bool = False
    roll_forward: bool = False
    min_working_days: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0
    ends_at: Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] | None = None
    regulator: Code | None = None
    regime: Code | None = None

    def __post_init__(self) -> None:
        check_dates(self)


class KeyRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    role: Role
    regulators: Codes | None = None


class KeyView(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    name: str
    role: Role
    regulators: list[str] | None
    created_at: datetime
    revoked_at: datetime | None
    created_by: str | None = None


class KeyCreated(KeyView, frozen=True, kw_only=True):
    token: str


class FeedTokenRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A calendar feed token for the calling key; ``regulators`` narrows its scope."""

    name: Name
    regulators: list[Code] | None = None


class FeedTokenView(msgspec.Struct, frozen=True, kw_only=True):
    token_id: str
    key_id: str
    name: str
    regulators: list[str] | None
    created_at: datetime
    revoked_at: datetime | None


class FeedTokenCreated(FeedTokenView, frozen=True, kw_only=True):
    """``token`` (shown once) goes in the feed URL: ``/v1/deadlines.ics?token=...``."""

    token: str


class LiveResponse(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ok"]
    version: str


class HealthResponse(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ok", "degraded"]
    database: str
    broker: str
    version: str
    checks: dict[str, Any] = {}
