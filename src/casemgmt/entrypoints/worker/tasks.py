"""The Celery tasks: thin, named, idempotent, JSON-primitive arguments.

- ``casemgmt.scan_due()``: claim due deliveries (see ``WorkerServices.claim`` in ``bootstrap``) and,
  after the claim committed, enqueue one ``deliver`` per claimed (reminder, subscription);
  re-enqueues itself while full batches come back, so a backlog drains at once.
- ``casemgmt.deliver(reminder_id, subscription_id, claim_token)``: one delivery attempt;
  a retry is the same task again after the backoff (``countdown``). A redelivered or stale
  task does nothing (``ReminderDelivery.deliver``).
- ``casemgmt.mark_missed()``: append ``deadline_missed`` to deadlines whose day is over.
- ``casemgmt.housekeeping()``: hourly, purge expired Idempotency-Key records and the
  embedded broker's delivered messages.

All are ``acks_late`` with ``reject_on_worker_lost``: a task whose worker dies is
redelivered by the broker; and whatever a broker loses, the claim's lease expires and the
next scan claims the delivery again.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from casemgmt.entrypoints.worker.runner import WorkerRunner
from casemgmt.observability import get_logger

__all__ = ["DELIVER", "HOUSEKEEPING", "MARK_MISSED", "SCAN_DUE", "register_tasks"]

SCAN_DUE = "casemgmt.scan_due"
DELIVER = "casemgmt.deliver"
MARK_MISSED = "casemgmt.mark_missed"
HOUSEKEEPING = "casemgmt.housekeeping"

_OPTIONS: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
_log = get_logger("casemgmt.worker")


def register_tasks(app: Celery, runner: WorkerRunner) -> None:
    """Register the four tasks on ``app``; they run their work through ``runner``."""

    def scan_due() -> int:
        claims, more = runner.run(lambda s: s.claim())
        for reminder_id, subscription_id, token in claims:
            app.send_task(DELIVER, args=[reminder_id, subscription_id, token])
        if more:
            app.send_task(SCAN_DUE)
        if claims:
            _log.info("claimed deliveries", count=len(claims), more=more)
        return len(claims)

    def deliver(reminder_id: str, subscription_id: str, claim_token: str) -> str:
        outcome = runner.run(
            lambda s: s.delivery.deliver(reminder_id, subscription_id, claim_token)
        )
        if outcome.status == "retry":
            app.send_task(
                DELIVER,
                args=[reminder_id, subscription_id, claim_token],
                countdown=outcome.retry_in,
            )
        return outcome.status

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

    app.task(name=SCAN_DUE, **_OPTIONS)(scan_due)
    app.task(name=HOUSEKEEPING, **_OPTIONS)(housekeeping)
    app.task(name=DELIVER, **_OPTIONS)(deliver)
    app.task(name=MARK_MISSED, **_OPTIONS)(mark_missed)
