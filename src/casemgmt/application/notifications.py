"""Event notifications: webhook subscriptions that list ``event_types`` get each matching
event of their regulators' cases, once per subscription, signed like reminders.

Recording (exactly once): an inline projection (``adapters.sql.notifications``) runs in
every append's transaction and inserts one delivery row per (event, matching
subscription) with the payload (``notification_rows``); the row's key is that pair, so
a replayed append records nothing twice. A rebuild of the read models never touches
these rows (the projection is not in the rebuild registry): no event is announced twice.

Delivery (``EventDelivery``) goes the reminders' way: claimed in batches by a scan, a
task takes its claims (swapping the scan's token for its own), sends them concurrently
through the same signing ``WebhookSender``, retries connection errors, timeouts, 5xx and
429 on the same ``RetryPolicy`` and dead-letters the rest, settling the rows (and logging
each attempt) as they come, one transaction per group, while renewing the claims it
still holds (``application.reminders.batches``). No event is appended for an outcome: the
delivery row and its attempt log are the record.

Order: per (subscription, case), a row is claimable only when no earlier event of that
case for that subscription is still pending, so a subscriber gets a case's events in
feed order (a dead-lettered event does not hold up the ones after it).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from casemgmt.application.envelope import Envelope
from casemgmt.application.ids import derived_event_id
from casemgmt.application.ports import (
    Clock,
    Closing,
    DeliveryAttempt,
    NotificationStore,
    WebhookSender,
)
from casemgmt.application.reminders.batches import Batch, run_batch
from casemgmt.application.reminders.policy import (
    DeliveryOutcome,
    RetryPolicy,
    SendResult,
    Subscription,
    check_event_types,
)
from casemgmt.application.views import envelope_view

__all__ = [
    "EventDelivery",
    "NotificationJob",
    "NotificationRow",
    "check_event_types",
    "event_webhook_id",
    "notification_id",
    "notification_rows",
]

_ENCODER = msgspec.json.Encoder()
Claim = tuple[str, str, str]  # (notification_id, subscription_id, claim_token)
_STALE = DeliveryOutcome(status="stale")


def notification_id(envelope: Envelope) -> str:
    """The store-wide key of an event's notifications: event ids are unique per
    regulator (a regulator code holds no ``/``)."""
    return f"{envelope.regulator}/{envelope.event_id}"


def event_webhook_id(notification_id: str, subscription_id: str) -> str:
    """The ``webhook-id`` of an event's delivery: the same on every attempt."""
    return "msg_" + derived_event_id("event-webhook", notification_id, subscription_id).replace(
        "-", ""
    )


class NotificationRow(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery to create: one event for one subscription, with the payload to send."""

    notification_id: str
    subscription_id: str
    webhook_id: str
    case_id: str
    regulator: str
    version: int
    event_type: str
    payload: str


def payload(envelope: Envelope) -> dict[str, Any]:
    """The notification body's ``data``: the case and the event as the API shows it."""
    return {
        "case": {"case_id": envelope.case_id, "regulator": envelope.regulator},
        "event": msgspec.to_builtins(envelope_view(envelope)),
    }


def notification_rows(
    envelopes: Iterable[Envelope], subscriptions: Sequence[Subscription]
) -> list[NotificationRow]:
    """A row per envelope and subscription that lists its type and reaches its regulator."""
    listening = [s for s in subscriptions if s.event_types and s.deleted_at is None]
    rows: list[NotificationRow] = []
    for e in envelopes:
        wanted = [s for s in listening if s.wants_event(e.regulator, e.type)]
        if not wanted:
            continue
        body = _ENCODER.encode(payload(e)).decode()
        rows.extend(
            NotificationRow(
                notification_id=notification_id(e),
                subscription_id=s.subscription_id,
                webhook_id=event_webhook_id(notification_id(e), s.subscription_id),
                case_id=e.case_id,
                regulator=e.regulator,
                version=e.version,
                event_type=e.type,
                payload=body,
            )
            for s in wanted
        )
    return rows


class NotificationJob(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one event delivery needs, read in one query."""

    notification_id: str
    subscription_id: str
    webhook_id: str
    case_id: str
    event_type: str
    status: str
    claim_token: str | None
    attempts: int
    generation: int
    payload: str
    url: str
    secret: str
    subscription_deleted: bool


class EventDelivery:
    """Delivers claimed (event, subscription) pairs; see the module docstring."""

    def __init__(
        self,
        store: NotificationStore,
        sender: WebhookSender,
        clock: Clock,
        policy: RetryPolicy,
        lease_seconds: float,
        rng: random.Random | None = None,
        *,
        start_grace_seconds: float | None = None,
        parallel: int = 50,
        unrecorded: int | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        """As ``ReminderDelivery``'s: a started claim renewed every ``heartbeat_seconds``
        (default a third of the lease), outcomes settled as they come, at most
        ``unrecorded`` sends of this process unsettled at once."""
        if lease_seconds <= 0:
            raise ValueError("the claim lease must be positive")
        self._store = store
        self._sender = sender
        self._clock = clock
        self._policy = policy
        self._lease = timedelta(seconds=lease_seconds)
        grace = lease_seconds if start_grace_seconds is None else start_grace_seconds
        self._grace = timedelta(seconds=grace)
        self._heartbeat = heartbeat_seconds or lease_seconds / 3
        self._rng = rng or random.Random()
        self._parallel = asyncio.Semaphore(max(1, parallel))
        self._window = asyncio.Semaphore(max(1, unrecorded or 4 * parallel))

    async def deliver_many(
        self, claims: Sequence[Claim], run_id: str | None = None
    ) -> list[DeliveryOutcome]:
        """Deliver a batch of claims; an outcome per claim, in order. ``run_id``: the
        token this run takes the claims under (the task's id; default a fresh one)."""
        mine = run_id or uuid.uuid4().hex
        jobs = await self._store.jobs([c[:2] for c in claims])
        now = self._clock.now()
        valid: dict[tuple[str, str], Claim] = {}
        for claim in claims:
            job = jobs.get(claim[:2])
            if job is not None and job.status == "pending" and job.claim_token in (claim[2], mine):
                valid.setdefault(claim[:2], claim)
        taken = await self._store.start(list(valid.values()), mine, now + self._lease, now)
        outcomes: dict[tuple[str, str], DeliveryOutcome] = {}
        first: list[Closing] = []
        sending: list[NotificationJob] = []
        for key in taken:
            job = msgspec.structs.replace(jobs[key], claim_token=mine)
            if job.subscription_deleted:
                first.append(_closing(job, "cancelled", None, now))
                outcomes[key] = DeliveryOutcome(status="cancelled")
            else:
                sending.append(job)

        async def attempt(job: NotificationJob) -> Closing:
            result = await self._send(job, self._clock.now())
            outcome, closing = self._settle(job, result, self._clock.now())
            outcomes[(job.notification_id, job.subscription_id)] = outcome
            return closing

        async def renew(keys: list[tuple[str, str]]) -> int:
            at = self._clock.now()
            return await self._store.renew(keys, mine, at + self._lease, at)

        batch = Batch(
            jobs=sending,
            send=attempt,
            job_key=lambda job: (job.notification_id, job.subscription_id),
            settled_key=lambda closing: (closing.reminder_id, closing.subscription_id),
            record=self._store.close,
            renew=renew,
            first=first,
        )
        await run_batch(batch, self._window, self._heartbeat)
        return [outcomes.get((e, s), _STALE) for e, s, _ in claims]

    async def _send(self, job: NotificationJob, now: datetime) -> SendResult:
        body = b"".join(
            [
                b'{"type":"case.event","event_type":',
                _ENCODER.encode(job.event_type),
                b',"timestamp":',
                _ENCODER.encode(now),
                b',"data":',
                job.payload.encode(),
                b"}",
            ]
        )
        async with self._parallel:
            return await self._sender.send(job.url, job.secret, job.webhook_id, body)

    def _settle(
        self, job: NotificationJob, result: SendResult, now: datetime
    ) -> tuple[DeliveryOutcome, Closing]:
        n = job.attempts + 1
        if result.ok:
            return DeliveryOutcome(status="delivered"), _closing(
                job, "delivered", _attempt(job, n, result, now, "delivered"), now
            )
        if result.retryable and n < self._policy.max_attempts:
            delay = self._policy.delay(n, result.retry_after, self._rng)
            lease = now + timedelta(seconds=delay) + self._grace
            outcome = DeliveryOutcome(status="retry", retry_in=delay, claim_token=job.claim_token)
            attempt = _attempt(job, n, result, now, "retry")
            return outcome, _closing(job, "pending", attempt, now, lease)
        return DeliveryOutcome(status="dead"), _closing(
            job, "dead", _attempt(job, n, result, now, "dead"), now
        )


def _attempt(
    job: NotificationJob,
    n: int,
    result: SendResult,
    now: datetime,
    outcome: Literal["delivered", "retry", "dead"],
) -> DeliveryAttempt:
    return DeliveryAttempt(
        attempt=n,
        generation=job.generation,
        at=now,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error,
        outcome=outcome,
    )


def _closing(
    job: NotificationJob,
    status: Literal["pending", "delivered", "dead", "cancelled"],
    attempt: DeliveryAttempt | None,
    now: datetime,
    lease_until: datetime | None = None,
) -> Closing:
    """``Closing.reminder_id`` carries the notification id here."""
    return Closing(
        reminder_id=job.notification_id,
        subscription_id=job.subscription_id,
        claim_token=job.claim_token,
        status=status,
        attempt=attempt,
        at=now,
        lease_until=lease_until,
    )
