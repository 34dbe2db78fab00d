"""``NotificationStore`` in memory, with the SQL adapter's fan-out and claim rules
(``adapters.sql.notifications``): rows from ``notification_rows``, insert-if-absent;
a row is claimable while pending, unleased, and no earlier row of its case for its
subscription is pending."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from casemgmt.application.envelope import Envelope
from casemgmt.application.notifications import NotificationJob, notification_rows
from casemgmt.application.ports import Closing, DeliveryAttempt
from casemgmt.application.reminders.policy import Subscription

__all__ = ["MemoryNotificationStore", "StoredNotification"]


@dataclass(frozen=True)
class StoredNotification:
    notification_id: str
    subscription_id: str
    webhook_id: str
    case_id: str
    version: int
    event_type: str
    payload: str
    status: str = "pending"
    attempts: int = 0
    claim_token: str | None = None
    lease_until: datetime | None = None
    last_status_code: int | None = None


@dataclass
class MemoryNotificationStore:
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    rows: dict[tuple[str, str], StoredNotification] = field(default_factory=dict)
    log: list[tuple[str, str, DeliveryAttempt]] = field(default_factory=list)

    def record(self, envelopes: Iterable[Envelope]) -> int:
        """The projection's work for appended ``envelopes``; how many rows were new."""
        new = 0
        for r in notification_rows(envelopes, list(self.subscriptions.values())):
            key = (r.notification_id, r.subscription_id)
            if key not in self.rows:
                new += 1
                self.rows[key] = StoredNotification(
                    notification_id=r.notification_id,
                    subscription_id=r.subscription_id,
                    webhook_id=r.webhook_id,
                    case_id=r.case_id,
                    version=r.version,
                    event_type=r.event_type,
                    payload=r.payload,
                )
        return new

    def claim(self, now: datetime, batch: int, lease: float) -> list[tuple[str, str, str]]:
        token = uuid.uuid4().hex
        pending = [r for r in self.rows.values() if r.status == "pending"]
        claims: list[tuple[str, str, str]] = []
        for r in sorted(pending, key=lambda r: (r.case_id, r.version)):
            if len(claims) >= batch or (r.lease_until is not None and r.lease_until >= now):
                continue
            if any(
                o.subscription_id == r.subscription_id
                and o.case_id == r.case_id
                and o.version < r.version
                for o in pending
            ):
                continue
            kept = r.claim_token or token
            self.rows[(r.notification_id, r.subscription_id)] = replace(
                r, claim_token=kept, lease_until=now + timedelta(seconds=lease)
            )
            claims.append((r.notification_id, r.subscription_id, kept))
        return claims

    async def jobs(
        self, wanted: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], NotificationJob]:
        jobs: dict[tuple[str, str], NotificationJob] = {}
        for key in wanted:
            r = self.rows.get(key)
            if r is None:
                continue
            s = self.subscriptions[r.subscription_id]
            jobs[key] = NotificationJob(
                notification_id=r.notification_id,
                subscription_id=r.subscription_id,
                webhook_id=r.webhook_id,
                case_id=r.case_id,
                event_type=r.event_type,
                status=r.status,
                claim_token=r.claim_token,
                attempts=r.attempts,
                generation=0,
                payload=r.payload,
                url=s.url,
                secret=s.secret,
                subscription_deleted=s.deleted_at is not None,
            )
        return jobs

    async def start(
        self,
        claims: Sequence[tuple[str, str, str]],
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> set[tuple[str, str]]:
        taken: set[tuple[str, str]] = set()
        for e, s, held in claims:
            r = self.rows.get((e, s))
            if r is not None and r.status == "pending" and r.claim_token in (held, token):
                self.rows[(e, s)] = replace(r, claim_token=token, lease_until=lease_until)
                taken.add((e, s))
        return taken

    async def renew(
        self, keys: Sequence[tuple[str, str]], token: str, lease_until: datetime, now: datetime
    ) -> int:
        renewed = 0
        for key in keys:
            r = self.rows.get(key)
            if r is not None and r.status == "pending" and r.claim_token == token:
                self.rows[key] = replace(r, lease_until=lease_until)
                renewed += 1
        return renewed

    async def close(self, closings: Sequence[Closing]) -> None:
        for c in closings:
            key = (c.reminder_id, c.subscription_id)
            r = self.rows.get(key)
            if r is not None and r.status == "pending" and r.claim_token == c.claim_token:
                a = c.attempt
                self.rows[key] = replace(
                    r,
                    status=c.status,
                    lease_until=c.lease_until,
                    attempts=r.attempts if a is None else a.attempt,
                    last_status_code=r.last_status_code if a is None else a.status_code,
                )
            if c.attempt is not None:
                self.log.append((c.reminder_id, c.subscription_id, c.attempt))
