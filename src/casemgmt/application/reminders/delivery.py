"""The worker's use cases: deliver one claimed reminder to one subscriber, mark missed deadlines.

Delivery contract (``ReminderDelivery.deliver``), for one claimed (reminder, subscription):
- a stale task (another claim took over, or the delivery is finished) does nothing;
- a reminder the schedule no longer wants (deadline met, extended, paused, cancelled) or a
  deleted subscription ends ``cancelled`` without a request;
- success (2xx) appends ``reminder_sent`` with an id derived from (reminder, subscription):
  a redelivered task finds it and sends nothing; a racing one cannot record it twice;
- connection errors, timeouts, 5xx and 429 are retried on the ``RetryPolicy`` schedule
  (a floor per retry, a least total span, never sooner than ``Retry-After``); other 4xx,
  or the last allowed attempt, dead-letter the delivery and append ``reminder_failed``.
A claim first holds for a short start grace; the task takes it for the whole lease when it
starts, so a task a broker lost is claimed and published again after the grace, and the
claim token lets exactly one task send. The event is appended before the delivery row is
closed, so a crash in between is repaired by the next claim of the delivery (the event is
found; nothing is sent again).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.errors import ConcurrencyConflict, IdempotencyConflict
from casemgmt.application.ids import derived_event_id
from casemgmt.application.ports import (
    Clock,
    Closing,
    DeliveryAttempt,
    DeliveryStore,
    OverdueSource,
    WebhookSender,
)
from casemgmt.application.reminders.policy import (
    WORKER,
    DeliveryJob,
    DeliveryOutcome,
    OverdueDeadline,
    RetryPolicy,
    SendResult,
)
from casemgmt.domain.errors import CalendarYearUnavailable, RuleViolation, UnknownRegime
from casemgmt.domain.events import DeadlineClosed, DeadlineMissed, ReminderFailed, ReminderSent
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.observability import get_logger

__all__ = [
    "MissedDeadlines",
    "ReminderDelivery",
    "closed_event_id",
    "failed_event_id",
    "missed_event_id",
    "record",
    "sent_event_id",
]

_log = get_logger("casemgmt.reminders")
_ENCODER = msgspec.json.Encoder()


def sent_event_id(reminder_id: str, subscription_id: str) -> str:
    return derived_event_id("reminder_sent", reminder_id, subscription_id)


def failed_event_id(reminder_id: str, subscription_id: str, generation: int) -> str:
    """One per retry generation: ``reminders retry`` may dead-letter a delivery again."""
    return derived_event_id("reminder_failed", reminder_id, subscription_id, str(generation))


def missed_event_id(case_id: str, deadline_id: str, due_on: str) -> str:
    return derived_event_id("deadline_missed", case_id, deadline_id, due_on)


def closed_event_id(case_id: str, deadline_id: str, due_on: str) -> str:
    return derived_event_id("deadline_closed", case_id, deadline_id, due_on)


async def record(
    cases: CaseService,
    case_id: str,
    event: Event,
    event_id: str,
    closes: Closing | None = None,
) -> bool:
    """Append ``event`` as the worker; False when it was already stored (idempotent).

    ``closes``: the delivery the event settles, closed in the append's unit of work.
    """
    command = RecordCommand(
        case_id=case_id, proposals=[Proposal(event=event, event_id=event_id)], closes=closes
    )
    for _ in range(5):
        try:
            return not (await cases.record(WORKER, command)).replayed
        except ConcurrencyConflict:
            continue  # another append to the case won the race: decide again
        except IdempotencyConflict:
            return False  # stored by an earlier run, with another attempt count
    raise ConcurrencyConflict(case_id, -1, -1)


class ReminderDelivery:
    """Delivers one (reminder, subscription); see the module docstring for the contract."""

    def __init__(
        self,
        store: DeliveryStore,
        sender: WebhookSender,
        cases: CaseService,
        regimes: RegimeRegistry,
        clock: Clock,
        policy: RetryPolicy,
        lease_seconds: float,
        rng: random.Random | None = None,
        *,
        start_grace_seconds: float | None = None,
    ) -> None:
        """``lease_seconds``: how long a started delivery holds its claim;
        ``start_grace_seconds`` (default: the lease): how long a retry's claim waits for
        its task to start before the scanner may claim and publish it again."""
        self._store = store
        self._sender = sender
        self._cases = cases
        self._regimes = regimes
        self._clock = clock
        self._policy = policy
        self._lease = timedelta(seconds=lease_seconds)
        grace = lease_seconds if start_grace_seconds is None else start_grace_seconds
        self._grace = timedelta(seconds=min(grace, lease_seconds))
        self._rng = rng or random.Random()

    async def deliver(self, reminder_id: str, subscription_id: str, token: str) -> DeliveryOutcome:
        sent_id = sent_event_id(reminder_id, subscription_id)
        job = await self._store.job(reminder_id, subscription_id, sent_id)
        if job is None or job.status != "pending" or job.claim_token != token:
            return DeliveryOutcome(status="stale")
        now = self._clock.now()
        if job.already_sent:
            await self._store.finish(job, "delivered", None, None, now)
            return DeliveryOutcome(status="delivered")
        if job.reminder_status != "pending" or job.subscription_deleted:
            await self._store.finish(job, "cancelled", None, None, now)
            return DeliveryOutcome(status="cancelled")
        # Take the claim for the whole lease before sending. Until now it held only for
        # the start grace, after which a scan re-claims (new token) and publishes again a
        # delivery whose task a broker lost; the token decides which one task sends.
        if not await self._store.finish(job, "pending", None, now + self._lease, now):
            return DeliveryOutcome(status="stale")
        body = _ENCODER.encode(self.body(job, now))
        result = await self._sender.send(job.url, job.secret, job.webhook_id, body)
        return await self._settle(job, result, self._clock.now())

    async def _settle(self, job: DeliveryJob, result: SendResult, now: datetime) -> DeliveryOutcome:
        n = job.attempts + 1
        day = now.astimezone(ZoneInfo(job.timezone)).date()
        if result.ok:
            sent = ReminderSent(
                occurred_on=day,
                occurred_at=now,
                reminder_id=job.reminder_id,
                subscription_id=job.subscription_id,
                deadline_id=job.deadline_id,
                attempts=n,
                offset=job.offset_code,
                channel="webhook",
            )
            attempt = _attempt(job, n, result, now, "delivered")
            sent_id = sent_event_id(job.reminder_id, job.subscription_id)
            await self._close(job, "delivered", attempt, sent, sent_id, now)
            return DeliveryOutcome(status="delivered")
        if result.retryable and n < self._policy.max_attempts:
            delay = self._policy.delay(n, result.retry_after, self._rng)
            lease = now + timedelta(seconds=delay) + self._grace
            held = await self._store.finish(
                job, "pending", _attempt(job, n, result, now, "retry"), lease, now
            )
            return (
                DeliveryOutcome(status="retry", retry_in=delay)
                if held
                else DeliveryOutcome(status="stale")
            )
        failed = ReminderFailed(
            occurred_on=day,
            occurred_at=now,
            reminder_id=job.reminder_id,
            subscription_id=job.subscription_id,
            deadline_id=job.deadline_id,
            attempts=n,
            error=_describe(result),
        )
        failed_id = failed_event_id(job.reminder_id, job.subscription_id, job.generation)
        await self._close(
            job, "dead", _attempt(job, n, result, now, "dead"), failed, failed_id, now
        )
        return DeliveryOutcome(status="dead")

    async def _close(
        self,
        job: DeliveryJob,
        status: Literal["delivered", "dead"],
        attempt: DeliveryAttempt,
        event: Event,
        event_id: str,
        now: datetime,
    ) -> None:
        """Append the outcome event; the delivery closes in the same unit of work
        (``RecordCommand.closes``), or here when the event was already stored."""
        closing = Closing(
            reminder_id=job.reminder_id,
            subscription_id=job.subscription_id,
            claim_token=job.claim_token,
            status=status,
            attempt=attempt,
        )
        appended = await record(self._cases, job.case_id, event, event_id, closes=closing)
        if not appended:
            await self._store.finish(job, status, attempt, None, now)

    def body(self, job: DeliveryJob, now: datetime) -> dict[str, Any]:
        """The JSON payload: the case, the deadline, the time left, the reminder."""
        today = now.astimezone(ZoneInfo(job.timezone)).date()
        try:
            calendar = self._regimes.get(job.regulator, job.regime).business_calendar()
            working = calendar.working_days_between(today, job.due_on)
        except (UnknownRegime, CalendarYearUnavailable):
            working = None
        case = {"case_id": job.case_id, "regulator": job.regulator, "regime": job.regime}
        deadline = {"deadline_id": job.deadline_id, "kind": job.kind, "label": job.label}
        return {
            "type": "deadline.reminder",
            "timestamp": now,
            "data": {
                "case": {**case, "subject": job.subject, "title": job.title},
                "deadline": {
                    **deadline,
                    "due_on": job.due_on,
                    "due_at": job.due_at,
                    "status": job.deadline_status,
                    "party": job.party,
                    "obligation": job.obligation,
                    "ours": job.ours,
                    "side": "ours" if job.ours else "theirs",
                },
                "days_left": (job.due_on - today).days,
                "working_days_left": working,
                "reminder": {
                    "reminder_id": job.reminder_id,
                    "offset": job.offset_code,
                    "send_at": job.send_at,
                },
            },
        }


def _attempt(
    job: DeliveryJob,
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


def _describe(result: SendResult) -> str:
    if result.status_code is None:
        return (result.error or "no response")[:1000]
    return f"HTTP {result.status_code}" + (f": {result.error[:900]}" if result.error else "")


class MissedDeadlines:
    """Once a deadline's due day has passed: appends ``deadline_missed`` to a duty left
    unmet, ``deadline_closed`` to a window left unused (a window is never missed), once."""

    def __init__(self, source: OverdueSource, cases: CaseService, clock: Clock) -> None:
        self._source = source
        self._cases = cases
        self._clock = clock

    async def mark(self, limit: int) -> int:
        """Mark up to ``limit`` overdue deadlines; returns how many this call appended."""
        now = self._clock.now()
        appended = 0
        for d in await self._source.overdue(now, limit):
            today = now.astimezone(ZoneInfo(d.timezone)).date()
            if today <= d.due_on:
                continue  # the due instant passed a moment ago; the local day is not over
            event, event_id = _ended(d, today, now)
            try:
                appended += await record(self._cases, d.case_id, event, event_id)
            except RuleViolation as exc:  # met or extended meanwhile: nothing to mark
                _log.info("deadline not missed", case_id=d.case_id, reason=str(exc))
        return appended


def _ended(d: OverdueDeadline, today: date, now: datetime) -> tuple[Event, str]:
    """The event that ends ``d`` (missed duty or closed window) and its stable id."""
    due = d.due_on.isoformat()
    if d.obligation == "window":
        closed = DeadlineClosed(occurred_on=today, occurred_at=now, deadline_id=d.deadline_id)
        return closed, closed_event_id(d.case_id, d.deadline_id, due)
    missed = DeadlineMissed(occurred_on=today, occurred_at=now, deadline_id=d.deadline_id)
    return missed, missed_event_id(d.case_id, d.deadline_id, due)
