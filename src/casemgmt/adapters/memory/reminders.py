"""The worker's ports in memory: ``DeliveryStore`` and ``OverdueSource``.

There is no fan-out of the reminder schedule here: a test (or a caller) puts a claimed
``Delivery``, and the job joins it with the deadline queue. The reminder's status is the
one the SQL reminder projection gives the current due date's reminders: ``pending``
while the deadline is open (or missed, for a reminder after the due instant),
``suspended`` while paused, ``cancelled`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from casemgmt.adapters.memory.database import Delivery, MemoryDatabase, Tables, round_trip
from casemgmt.adapters.memory.store import MemoryUnitOfWork
from casemgmt.application.ports import Closing
from casemgmt.application.readmodels import DeadlineRow
from casemgmt.application.reminders.policy import (
    DeliveryJob,
    OverdueDeadline,
    webhook_id,
)

__all__ = ["MemoryDeliveryStore", "MemoryOverdueSource", "close_delivery"]

_BY_STATUS = {"open": "pending", "paused": "suspended"}


class MemoryDeliveryStore:
    """``DeliveryStore`` over the memory database's deliveries and deadline queue."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def put(self, delivery: Delivery) -> None:
        """Store ``delivery`` as claimed (replacing one of the same reminder and subscription)."""
        async with MemoryUnitOfWork(self._db) as uow:
            tables = await uow.write()
            tables.deliveries[(delivery.reminder_id, delivery.subscription_id)] = delivery
            await uow.commit()

    def get(self, reminder_id: str, subscription_id: str) -> Delivery | None:
        """The committed delivery, for inspection."""
        return self._db.tables.deliveries.get((reminder_id, subscription_id))

    async def job(self, reminder_id: str, subscription_id: str, sent_id: str) -> DeliveryJob | None:
        await round_trip()
        tables = self._db.tables
        d = tables.deliveries.get((reminder_id, subscription_id))
        if d is None:
            return None
        deadline = tables.deadlines.get((d.case_id, d.deadline_id))
        if deadline is None:
            return None
        return _job(d, deadline, already_sent=(deadline.regulator, sent_id) in tables.by_event_id)

    async def jobs(
        self, wanted: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str], DeliveryJob]:
        found = {}
        for reminder_id, subscription_id, sent_id in wanted:
            job = await self.job(reminder_id, subscription_id, sent_id)
            if job is not None:
                found[(reminder_id, subscription_id)] = job
        return found

    async def start(
        self,
        claims: Sequence[tuple[str, str, str]],
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> set[tuple[str, str]]:
        taken: set[tuple[str, str]] = set()
        async with MemoryUnitOfWork(self._db) as uow:
            tables = await uow.write()
            for reminder_id, subscription_id, carried in claims:
                key = (reminder_id, subscription_id)
                d = tables.deliveries.get(key)
                if d is None or d.status != "pending" or d.claim_token not in (carried, token):
                    continue
                tables.deliveries[key] = replace(d, claim_token=token, lease_until=lease_until)
                taken.add(key)
            await uow.commit()
        return taken

    async def renew(
        self, keys: Sequence[tuple[str, str]], token: str, lease_until: datetime, now: datetime
    ) -> int:
        renewed = 0
        async with MemoryUnitOfWork(self._db) as uow:
            tables = await uow.write()
            for key in keys:
                d = tables.deliveries.get(key)
                if d is not None and d.status == "pending" and d.claim_token == token:
                    tables.deliveries[key] = replace(d, lease_until=lease_until)
                    renewed += 1
            await uow.commit()
        return renewed

    async def settle(self, closing: Closing) -> None:
        async with MemoryUnitOfWork(self._db) as uow:
            close_delivery(await uow.write(), closing)
            await uow.commit()


def close_delivery(tables: Tables, closing: Closing) -> None:
    """``CaseUnitOfWork.close_delivery`` on the unit of work's tables."""
    key = (closing.reminder_id, closing.subscription_id)
    d = tables.deliveries[key]
    attempt = closing.attempt
    if d.claim_token == closing.claim_token and d.status == "pending":
        d = replace(d, status=closing.status, lease_until=closing.lease_until)
        if attempt is not None:
            d = replace(d, attempts=attempt.attempt)
        if closing.status == "delivered":
            d = replace(d, delivered_at=closing.at)
    if attempt is not None:
        d = replace(d, log=(*d.log, attempt))
    tables.deliveries[key] = d


def _job(d: Delivery, deadline: DeadlineRow, *, already_sent: bool) -> DeliveryJob:
    reminder_status = _BY_STATUS.get(deadline.status, "cancelled")
    if deadline.status == "missed" and d.send_at > deadline.due_at:
        reminder_status = "pending"
    return DeliveryJob(
        reminder_id=d.reminder_id,
        subscription_id=d.subscription_id,
        webhook_id=webhook_id(d.reminder_id, d.subscription_id),
        claim_token=d.claim_token,
        status=d.status,
        attempts=d.attempts,
        generation=d.generation,
        reminder_status=reminder_status,
        offset_code=d.offset_code,
        send_at=d.send_at,
        case_id=d.case_id,
        deadline_id=d.deadline_id,
        regulator=deadline.regulator,
        regime=deadline.regime,
        kind=deadline.kind,
        label=deadline.label,
        due_on=deadline.due_on,
        due_at=deadline.due_at,
        deadline_status=deadline.status,
        subject=deadline.subject,
        title=deadline.title,
        timezone=deadline.timezone,
        url=d.url,
        secret=d.secret,
        subscription_deleted=d.subscription_deleted,
        already_sent=already_sent,
        party=deadline.party,
        obligation=deadline.obligation,
        ours=deadline.ours,
    )


class MemoryOverdueSource:
    """``OverdueSource`` over the memory deadline queue."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def overdue(self, now: datetime, limit: int) -> list[OverdueDeadline]:
        await round_trip()
        rows = sorted(
            (
                d
                for d in self._db.tables.deadlines.values()
                if d.status == "open" and d.due_at < now
            ),
            key=lambda d: (d.due_at, d.case_id, d.deadline_id),
        )
        return [
            OverdueDeadline(
                case_id=d.case_id,
                deadline_id=d.deadline_id,
                due_on=d.due_on,
                timezone=d.timezone,
                obligation=d.obligation,
            )
            for d in rows[:limit]
        ]
