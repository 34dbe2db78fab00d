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
Batches (``deliver_many``): the jobs of a batch are read in one query, taken in one
statement and sent concurrently over the worker process's pooled HTTP client; their
outcomes (events and delivery rows) are recorded while the rest is still in flight,
whatever settled since the last recording in one transaction (``OutcomeRecorder``, see
``batches``), so at most ``unrecorded`` sends of a process are ever unrecorded: all a
kill -9 can make it send again (same ``webhook-id``; recorded once all the same).

Claims: a scan's claim holds only for a short start grace, and a claim whose task has
not started by then is published again by a later scan *with the same token*, so a
backlog queued longer than the grace is never re-claimed out from under its tasks. The
task that starts first swaps the token for its own (its task id) and takes the lease,
which it renews (a heartbeat) while the batch runs; any other copy of the same claim
then finds the token changed and does nothing, while a broker's redelivery of that same
task (same id) may take it again at once. A task whose worker died stops renewing: its
claims run out one lease after its last heartbeat and a scan publishes them again. A
retry is published with the attempt's own token; if a broker loses it, the claim runs
out after the delay plus the grace and a scan publishes it again.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
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
from casemgmt.application.reminders.batches import Batch, run_batch
from casemgmt.application.reminders.policy import (
    WORKER,
    DeliveryJob,
    DeliveryOutcome,
    OverdueDeadline,
    RetryPolicy,
    SendResult,
)
from casemgmt.application.reminders.recording import OutcomeRecorder, Settled
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


Claim = tuple[str, str, str]  # (reminder_id, subscription_id, claim_token)
_STALE = DeliveryOutcome(status="stale")


class ReminderDelivery:
    """Delivers claimed (reminder, subscription) pairs; see the module docstring."""

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
        recorder: OutcomeRecorder | None = None,
        parallel: int = 50,
        unrecorded: int | None = None,
        heartbeat_seconds: float | None = None,
    ) -> None:
        """``lease_seconds``: how long a started delivery's claim outlives its task's last
        heartbeat (``heartbeat_seconds``, default a third of it); ``start_grace_seconds``
        (default: the lease): how long a retry's claim waits for its task to start before
        the scanner may publish it again; ``recorder``: records outcomes in one
        transaction per group (default: one ``CaseService`` append each); ``parallel``:
        requests in flight at once in this process; ``unrecorded`` (default 4 x
        ``parallel``): sends of this process started and not yet recorded, at most."""
        if lease_seconds <= 0:
            raise ValueError("the claim lease must be positive")
        self._store = store
        self._sender = sender
        self._cases = cases
        self._regimes = regimes
        self._clock = clock
        self._policy = policy
        self._lease = timedelta(seconds=lease_seconds)
        grace = lease_seconds if start_grace_seconds is None else start_grace_seconds
        self._grace = timedelta(seconds=grace)
        self._heartbeat = heartbeat_seconds or lease_seconds / 3
        self._rng = rng or random.Random()
        self._recorder = recorder
        self._parallel = asyncio.Semaphore(max(1, parallel))
        self._window = asyncio.Semaphore(max(1, unrecorded or 4 * parallel))

    async def deliver(
        self, reminder_id: str, subscription_id: str, token: str, run_id: str | None = None
    ) -> DeliveryOutcome:
        """One delivery; ``run_id``: this task's own id (see ``deliver_many``)."""
        [outcome] = await self.deliver_many([(reminder_id, subscription_id, token)], run_id)
        return outcome

    async def deliver_many(
        self, claims: Sequence[Claim], run_id: str | None = None
    ) -> list[DeliveryOutcome]:
        """Deliver a batch of claims; an outcome per claim, in order.

        ``run_id`` is the token this run takes the claims under (the Celery task id, so a
        broker's redelivery of the same task may take them again; default: a fresh one).
        """
        mine = run_id or uuid.uuid4().hex
        wanted = [(r, s, sent_event_id(r, s)) for r, s, _ in claims]
        jobs = await self._store.jobs(wanted)
        now = self._clock.now()
        valid: dict[tuple[str, str], Claim] = {}
        for claim in claims:
            job = jobs.get(claim[:2])
            if job is not None and job.status == "pending" and job.claim_token in (claim[2], mine):
                valid.setdefault(claim[:2], claim)
        taken = await self._store.start(list(valid.values()), mine, now + self._lease, now)
        outcomes: dict[tuple[str, str], DeliveryOutcome] = {}
        first: list[Settled] = []
        sending: list[DeliveryJob] = []
        for key in taken:
            job = msgspec.structs.replace(jobs[key], claim_token=mine)
            if job.already_sent:
                first.append(_settled(job, "delivered", None, now))
                outcomes[key] = DeliveryOutcome(status="delivered")
            elif job.reminder_status != "pending" or job.subscription_deleted:
                first.append(_settled(job, "cancelled", None, now))
                outcomes[key] = DeliveryOutcome(status="cancelled")
            else:
                sending.append(job)

        async def attempt(job: DeliveryJob) -> Settled:
            result = await self._send(job, self._clock.now())
            outcome, settled = self._settle(job, result, self._clock.now())
            outcomes[(job.reminder_id, job.subscription_id)] = outcome
            return settled

        async def renew(keys: list[tuple[str, str]]) -> int:
            at = self._clock.now()
            return await self._store.renew(keys, mine, at + self._lease, at)

        batch = Batch(
            jobs=sending,
            send=attempt,
            job_key=lambda job: (job.reminder_id, job.subscription_id),
            settled_key=lambda one: (one.closing.reminder_id, one.closing.subscription_id),
            record=self._record,
            renew=renew,
            first=first,
        )
        await run_batch(batch, self._window, self._heartbeat)
        return [outcomes.get((r, s), _STALE) for r, s, _ in claims]

    async def _send(self, job: DeliveryJob, now: datetime) -> SendResult:
        body = _ENCODER.encode(self.body(job, now))
        async with self._parallel:
            return await self._sender.send(job.url, job.secret, job.webhook_id, body)

    def _settle(
        self, job: DeliveryJob, result: SendResult, now: datetime
    ) -> tuple[DeliveryOutcome, Settled]:
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
            return DeliveryOutcome(status="delivered"), _settled(
                job,
                "delivered",
                attempt,
                now,
                sent,
                sent_event_id(job.reminder_id, job.subscription_id),
            )
        if result.retryable and n < self._policy.max_attempts:
            delay = self._policy.delay(n, result.retry_after, self._rng)
            attempt = _attempt(job, n, result, now, "retry")
            lease = now + timedelta(seconds=delay) + self._grace
            outcome = DeliveryOutcome(status="retry", retry_in=delay, claim_token=job.claim_token)
            return outcome, _settled(job, "pending", attempt, now, lease_until=lease)
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
        attempt = _attempt(job, n, result, now, "dead")
        return DeliveryOutcome(status="dead"), _settled(
            job, "dead", attempt, now, failed, failed_id
        )

    async def _record(self, settled: list[Settled]) -> None:
        if self._recorder is not None:
            await self._recorder.record(settled)
            return
        for one in settled:  # without a recorder: one unit of work per delivery
            if one.event is None or one.event_id is None:
                await _finish(self._store, one.closing)
                continue
            appended = await record(
                self._cases, one.case_id, one.event, one.event_id, closes=one.closing
            )
            if not appended:
                await _finish(self._store, one.closing)

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


def _settled(
    job: DeliveryJob,
    status: Literal["pending", "delivered", "dead", "cancelled"],
    attempt: DeliveryAttempt | None,
    now: datetime,
    event: Event | None = None,
    event_id: str | None = None,
    *,
    lease_until: datetime | None = None,
) -> Settled:
    closing = Closing(
        reminder_id=job.reminder_id,
        subscription_id=job.subscription_id,
        claim_token=job.claim_token,
        status=status,
        attempt=attempt,
        at=now,
        lease_until=lease_until,
    )
    return Settled(case_id=job.case_id, closing=closing, event=event, event_id=event_id)


async def _finish(store: DeliveryStore, closing: Closing) -> None:
    """Settle a delivery row in a transaction of its own (no event to append)."""
    await store.settle(closing)


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
