"""The Celery tasks: thin, named, idempotent, JSON-primitive arguments.

- ``casemgmt.scan_due()``: claim due deliveries (see ``WorkerServices.claim`` in ``bootstrap``) and,
  after the claim committed, enqueue one ``deliver_batch`` per ``CASEMGMT_REMINDER_DELIVERY_BATCH``
  claims; re-enqueues itself while full batches come back, so a backlog drains at once.
- ``casemgmt.deliver_batch(claims)``: ``[[reminder_id, subscription_id, claim_token], ...]``,
  delivered concurrently, outcomes recorded in one transaction; each retry is a
  ``deliver`` task after its backoff (``countdown``).
- ``casemgmt.deliver(reminder_id, subscription_id, claim_token)``: one delivery attempt.
  A redelivered or stale task does nothing (``ReminderDelivery.deliver_many``); the task id
  is the token a started delivery is held under, so a broker's redelivery of the same task
  after a worker died may take it again at once.
- ``casemgmt.scan_events()``: claim deliverable event notifications (``application.notifications``)
  and enqueue ``deliver_events`` batches the same way; ``casemgmt.deliver_events(claims)``:
  ``[[notification_id, subscription_id, claim_token], ...]``; a retry is a ``deliver_events`` of
  one claim after its backoff.
- ``casemgmt.mark_missed()``: append ``deadline_missed`` to deadlines whose day is over.
- ``casemgmt.send_digests()``: daily (07:00 UTC), mail each person's digest (``CASEMGMT_SMTP_URL``).
- ``casemgmt.housekeeping()``: hourly, keep the ``events`` month partitions ahead
  (PostgreSQL), purge expired Idempotency-Key records and the embedded broker's delivered
  messages.

All are ``acks_late`` with ``reject_on_worker_lost``: a task whose worker dies is
redelivered by the broker; and whatever a broker loses, the claim runs out (the start
grace, or the lease of a started delivery) and a later scan publishes it again.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task

from casemgmt.application.reminders.policy import DeliveryOutcome
from casemgmt.entrypoints.worker.runner import WorkerRunner
from casemgmt.observability import get_logger

__all__ = [
    "DELIVER",
    "DELIVER_BATCH",
    "DELIVER_EVENTS",
    "HOUSEKEEPING",
    "MARK_MISSED",
    "SCAN_DUE",
    "SCAN_EVENTS",
    "SEND_DIGESTS",
    "register_tasks",
]

SCAN_DUE = "casemgmt.scan_due"
DELIVER = "casemgmt.deliver"
DELIVER_BATCH = "casemgmt.deliver_batch"
MARK_MISSED = "casemgmt.mark_missed"
SCAN_EVENTS = "casemgmt.scan_events"
DELIVER_EVENTS = "casemgmt.deliver_events"
HOUSEKEEPING = "casemgmt.housekeeping"
SEND_DIGESTS = "casemgmt.send_digests"

_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
_log = get_logger("casemgmt.worker")


def register_tasks(app: Celery, runner: WorkerRunner) -> None:
    """Register the four tasks on ``app``; they run their work through ``runner``."""

    def scan_due() -> int:
        claims, more = runner.run(lambda s: s.claim())
        size = max(1, runner.settings.reminders.delivery_batch)
        for i in range(0, len(claims), size):
            app.send_task(DELIVER_BATCH, args=[[list(c) for c in claims[i : i + size]]])
        if more:
            app.send_task(SCAN_DUE)
        if claims:
            _log.info("claimed deliveries", count=len(claims), more=more)
        return len(claims)

    def deliver_batch(task: Task[Any, Any], claims: list[list[str]]) -> int:
        batch = [(c[0], c[1], c[2]) for c in claims]
        run_id = task.request.id
        outcomes = runner.run(lambda s: s.delivery.deliver_many(batch, run_id))
        for (reminder_id, subscription_id, _), outcome in zip(batch, outcomes, strict=True):
            if outcome.status == "retry":
                _retry(reminder_id, subscription_id, outcome)
        return sum(o.status == "delivered" for o in outcomes)

    def deliver(
        task: Task[Any, Any], reminder_id: str, subscription_id: str, claim_token: str
    ) -> str:
        run_id = task.request.id
        outcome = runner.run(
            lambda s: s.delivery.deliver(reminder_id, subscription_id, claim_token, run_id)
        )
        if outcome.status == "retry":
            _retry(reminder_id, subscription_id, outcome)
        return outcome.status

    def _retry(reminder_id: str, subscription_id: str, outcome: DeliveryOutcome) -> None:
        app.send_task(
            DELIVER,
            args=[reminder_id, subscription_id, outcome.claim_token],
            countdown=outcome.retry_in,
        )

    def scan_events() -> int:
        claims, more = runner.run(lambda s: s.claim_events())
        size = max(1, runner.settings.reminders.delivery_batch)
        for i in range(0, len(claims), size):
            app.send_task(DELIVER_EVENTS, args=[[list(c) for c in claims[i : i + size]]])
        if more:
            app.send_task(SCAN_EVENTS)
        return len(claims)

    def deliver_events(task: Task[Any, Any], claims: list[list[str]]) -> int:
        batch = [(c[0], c[1], c[2]) for c in claims]
        run_id = task.request.id
        outcomes = runner.run(lambda s: s.events.deliver_many(batch, run_id))
        for (notification_id, subscription_id, _), outcome in zip(batch, outcomes, strict=True):
            if outcome.status == "retry":
                app.send_task(
                    DELIVER_EVENTS,
                    args=[[[notification_id, subscription_id, outcome.claim_token]]],
                    countdown=outcome.retry_in,
                )
        return sum(o.status == "delivered" for o in outcomes)

    def mark_missed() -> int:
        batch = runner.settings.reminders.claim_batch
        marked = runner.run(lambda s: s.missed.mark(batch))
        if marked:
            _log.info("deadlines missed", count=marked)
        return marked

    def housekeeping() -> int:
        purged = runner.run(lambda s: s.housekeeping())
        _log.info("housekeeping", purged=purged)
        return purged

    def send_digests() -> int:
        sent = runner.run(lambda s: s.send_digests())
        _log.info("digests", sent=sent)
        return sent

    app.task(name=SCAN_DUE, **_OPTIONS)(scan_due)
    app.task(name=SEND_DIGESTS, **_OPTIONS)(send_digests)
    app.task(name=HOUSEKEEPING, **_OPTIONS)(housekeeping)
    app.task(name=DELIVER, bind=True, **_OPTIONS)(deliver)
    app.task(name=DELIVER_BATCH, bind=True, **_OPTIONS)(deliver_batch)
    app.task(name=MARK_MISSED, **_OPTIONS)(mark_missed)
    app.task(name=SCAN_EVENTS, **_OPTIONS)(scan_events)
    app.task(name=DELIVER_EVENTS, bind=True, **_OPTIONS)(deliver_events)
