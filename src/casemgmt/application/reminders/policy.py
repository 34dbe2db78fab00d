"""Reminders: webhook subscriptions, the delivery records, the retry policy.

The use cases that run in the worker are in ``application.reminders.delivery``.
Framework-free: storage, HTTP and time come in through ports (``application.ports``:
``SubscriptionRepository``, ``DeliveryStore``, ``WebhookSender``, ``OverdueSource``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec

from casemgmt.application.auth import Principal, Role
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.ids import derived_event_id
from casemgmt.application.ports import Closing, DeliveryAttempt, SubscriptionRepository
from casemgmt.application.reminders.retry import RetryPolicy
from casemgmt.application.reminders.targets import TargetPolicy
from casemgmt.domain.events import EVENT_TYPES
from casemgmt.domain.events.fields import Codes

__all__ = [
    "DELIVERY_STATUSES",
    "SCHEDULE_STATUSES",
    "SECRET_PREFIX",
    "WORKER",
    "Closing",
    "DeliveryAttempt",
    "DeliveryJob",
    "DeliveryOutcome",
    "DeliveryRecord",
    "NewSubscription",
    "OverdueDeadline",
    "RetryPolicy",
    "SendResult",
    "Subscription",
    "SubscriptionService",
    "check_event_types",
    "check_secret",
    "new_secret",
    "new_subscription",
    "webhook_id",
]

#: The principal the worker appends events as.
WORKER = Principal(key_id="worker", name="reminder worker", role=Role.ADMIN, regulators=None)
SECRET_PREFIX = "whsec_"
#: A reminder row's status in the schedule, and the outcomes its deliveries are counted by.
SCHEDULE_STATUSES = ("pending", "suspended", "cancelled", "superseded", "skipped")
DELIVERY_STATUSES = ("queued", "delivered", "dead")
_ENCODER = msgspec.json.Encoder()


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook subscriber; ``regulators`` / ``kinds`` None means every one;
    ``event_types``: the events it is also notified of (None: reminders only)."""

    subscription_id: str
    url: str
    secret: str
    regulators: list[str] | None
    kinds: list[str] | None
    description: str
    created_by: str
    created_at: datetime
    deleted_at: datetime | None = None
    event_types: list[str] | None = None

    def wants_event(self, regulator: str, event_type: str) -> bool:
        return (
            self.event_types is not None
            and event_type in self.event_types
            and (self.regulators is None or regulator in self.regulators)
        )

    def matches(self, regulator: str, kind: str) -> bool:
        return (self.regulators is None or regulator in self.regulators) and (
            self.kinds is None or kind in self.kinds
        )

    def visible_to(self, principal: Principal) -> bool:
        """A scoped admin sees only subscriptions confined to its own regulators."""
        scope = principal.regulators
        return scope is None or (self.regulators is not None and set(self.regulators) <= scope)


def check_event_types(types: Iterable[str] | None) -> list[str] | None:
    """The sorted, de-duplicated event types, or ``ValidationFailed`` naming an unknown one."""
    if types is None:
        return None
    chosen = sorted(set(types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(
            f"event_types: unknown event type(s) {', '.join(unknown)}", field="event_types"
        )
    return chosen


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_secret(secret: str) -> str:
    """``whsec_`` + base64 of 24 to 64 random bytes (Standard Webhooks), or ``ValidationFailed``."""
    try:
        if not secret.startswith(SECRET_PREFIX):
            raise ValueError
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ValidationFailed("secret must be whsec_<base64>", field="secret") from exc
    if not 24 <= len(key) <= 64:
        raise ValidationFailed("secret must hold 24 to 64 bytes", field="secret")
    return secret


class NewSubscription(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A subscription request; the secret is generated when not given (shown once)."""

    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)]
    secret: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    regulators: Codes | None = None
    kinds: Codes | None = None
    event_types: Codes | None = None
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""


def new_subscription(
    principal: Principal,
    request: NewSubscription,
    now: datetime,
    targets: TargetPolicy | None = None,
) -> Subscription:
    """A subscription for ``principal`` (``ValidationFailed`` on a bad URL, secret or scope;
    a URL naming an address ``targets`` refuses is a bad URL)."""
    parts = urlsplit(request.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("url must be an absolute http(s) URL", field="url")
    refusal = (targets or TargetPolicy()).refusal(parts.hostname)
    if refusal is not None:
        raise ValidationFailed(f"url: {refusal}", field="url")
    scope = None if request.regulators is None else sorted(set(request.regulators))
    if principal.regulators is not None and (
        scope is None or not set(scope) <= principal.regulators
    ):
        raise ValidationFailed(
            "a subscription may not reach regulators beyond your own", field="regulators"
        )
    return Subscription(
        subscription_id="sub_" + secrets.token_hex(8),
        url=request.url,
        secret=new_secret() if request.secret is None else check_secret(request.secret),
        regulators=scope,
        kinds=None if request.kinds is None else sorted(set(request.kinds)),
        event_types=check_event_types(request.event_types),
        description=request.description,
        created_by=principal.actor,
        created_at=now,
    )


def webhook_id(reminder_id: str, subscription_id: str) -> str:
    """The ``webhook-id`` of a delivery: the same on every attempt."""
    return "msg_" + derived_event_id("webhook", reminder_id, subscription_id).replace("-", "")


class DeliveryJob(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one delivery needs, read in one query."""

    reminder_id: str
    subscription_id: str
    webhook_id: str
    claim_token: str | None
    status: str
    attempts: int
    generation: int
    reminder_status: str
    offset_code: str
    send_at: datetime
    case_id: str
    deadline_id: str
    regulator: str
    regime: str
    kind: str
    label: str
    due_on: date
    due_at: datetime
    deadline_status: str
    subject: str
    title: str
    timezone: str
    url: str
    secret: str
    subscription_deleted: bool
    already_sent: bool
    party: str = "subject"
    obligation: str = "duty"
    ours: bool = False


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    """What the receiver answered: a status code, or an ``error`` when no response came."""

    status_code: int | None
    error: str | None = None
    retry_after: float | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        code = self.status_code
        return code is None or code >= 500 or code == 429


class DeliveryOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """``retry``: publish the delivery again in ``retry_in`` seconds with ``claim_token``
    (the claim the attempt held)."""

    status: Literal["delivered", "retry", "dead", "cancelled", "stale"]
    retry_in: float | None = None
    claim_token: str | None = None


class OverdueDeadline(msgspec.Struct, frozen=True, kw_only=True):
    """An open deadline past its due instant: a duty to record missed, a window closed."""

    case_id: str
    deadline_id: str
    due_on: date
    timezone: str
    obligation: str = "duty"


class DeliveryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery of one reminder to one subscription, with its attempt log."""

    reminder_id: str
    subscription_id: str
    webhook_id: str
    case_id: str
    deadline_id: str
    regulator: str
    status: str
    attempts: int
    generation: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    log: list[DeliveryAttempt] = []


class SubscriptionService:
    """Subscriptions for admins; a scoped admin reaches only its own regulators'."""

    def __init__(
        self, repository: SubscriptionRepository, targets: TargetPolicy | None = None
    ) -> None:
        self._repository = repository
        self._targets = targets or TargetPolicy()

    async def create(
        self, principal: Principal, request: NewSubscription, now: datetime
    ) -> Subscription:
        """Store a new subscription; the result carries the secret (show it once)."""
        subscription = new_subscription(principal, request, now, self._targets)
        await self._repository.add(subscription)
        return subscription

    async def visible(self, principal: Principal) -> list[Subscription]:
        """The subscriptions not deleted that ``principal`` may see."""
        return [s for s in await self._repository.active() if s.visible_to(principal)]

    async def get(self, principal: Principal, subscription_id: str) -> Subscription:
        """The subscription; ``NotFound`` if it does not exist or is out of scope."""
        found = await self._repository.get(subscription_id)
        if found is None or not found.visible_to(principal):
            raise NotFound("subscription", subscription_id)
        return found

    async def delete(
        self, principal: Principal, subscription_id: str, now: datetime
    ) -> Subscription:
        found = await self.get(principal, subscription_id)
        if found.deleted_at is None:
            await self._repository.delete(subscription_id, now)
        return await self.get(principal, subscription_id)

    async def deliveries(
        self,
        principal: Principal,
        subscription_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[DeliveryRecord]:
        await self.get(principal, subscription_id)
        return await self._repository.deliveries(subscription_id, after, limit)
