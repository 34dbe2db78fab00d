"""Webhook subscriptions and their delivery log in SQL (``SubscriptionRepository``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.secretbox import SecretBox
from casemgmt.adapters.sql.reminders.tables import deliveries, delivery_attempts, subscriptions
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.reminders.policy import DeliveryAttempt, DeliveryRecord, Subscription

__all__ = ["SqlSubscriptionRepository", "active_subscriptions"]

_LIST = msgspec.json.Decoder(list[str] | None)


def _encode(values: list[str] | None) -> str | None:
    return None if values is None else msgspec.json.encode(values).decode()


def _subscription(row: Any) -> Subscription:
    values = dict(row._mapping)
    for name in ("regulators", "kinds", "event_types"):
        raw = values[name]
        values[name] = None if raw is None else _LIST.decode(raw)
    return Subscription(**values)


async def active_subscriptions(conn: AsyncConnection) -> list[Subscription]:
    """Every subscription not deleted, oldest first."""
    s = subscriptions
    query = (
        sa.select(s).where(s.c.deleted_at.is_(None)).order_by(s.c.created_at, s.c.subscription_id)
    )
    return [_subscription(row) for row in await conn.execute(query)]


class SqlSubscriptionRepository:
    """Subscriptions with their signing secret encrypted at rest (``SecretBox``)."""

    def __init__(self, engine: AsyncEngine, secrets: SecretBox | None = None) -> None:
        self._engine = engine
        self._secrets = secrets or SecretBox()

    async def add(self, subscription: Subscription) -> None:
        row = msgspec.structs.asdict(subscription)
        row["secret"] = self._secrets.seal(subscription.secret)
        row["regulators"] = _encode(subscription.regulators)
        row["kinds"] = _encode(subscription.kinds)
        row["event_types"] = _encode(subscription.event_types)
        async with write_transaction(self._engine) as conn:
            await conn.execute(sa.insert(subscriptions), [row])

    async def get(self, subscription_id: str) -> Subscription | None:
        query = sa.select(subscriptions).where(subscriptions.c.subscription_id == subscription_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else self._opened(_subscription(row))

    def _opened(self, subscription: Subscription) -> Subscription:
        return msgspec.structs.replace(subscription, secret=self._secrets.open(subscription.secret))

    async def active(self) -> list[Subscription]:
        async with self._engine.connect() as conn:
            return [self._opened(s) for s in await active_subscriptions(conn)]

    async def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret with the first configured key; returns how many."""
        s = subscriptions
        async with write_transaction(self._engine) as conn:
            rows = (await conn.execute(sa.select(s.c.subscription_id, s.c.secret))).all()
            for row in rows:
                await conn.execute(
                    sa.update(s)
                    .where(s.c.subscription_id == row.subscription_id)
                    .values(secret=self._secrets.rotate(row.secret))
                )
        return len(rows)

    async def delete(self, subscription_id: str, at: datetime) -> None:
        s = subscriptions
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.update(s)
                .where(s.c.subscription_id == subscription_id, s.c.deleted_at.is_(None))
                .values(deleted_at=at)
            )

    async def deliveries(
        self, subscription_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[DeliveryRecord]:
        d, a = deliveries, delivery_attempts
        query = sa.select(d).where(d.c.subscription_id == subscription_id)
        if after is not None:
            at, rid = after
            query = query.where(
                sa.or_(d.c.created_at < at, sa.and_(d.c.created_at == at, d.c.reminder_id < rid))
            )
        query = query.order_by(d.c.created_at.desc(), d.c.reminder_id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            ids = [row["reminder_id"] for row in rows]
            log_query = (
                sa.select(a)
                .where(a.c.subscription_id == subscription_id, a.c.reminder_id.in_(ids))
                .order_by(a.c.attempt_id)
            )
            logs: dict[str, list[DeliveryAttempt]] = defaultdict(list)
            for entry in (await conn.execute(log_query)).mappings():
                logs[entry["reminder_id"]].append(_attempt(entry))
        fields = set(DeliveryRecord.__struct_fields__)
        return [
            DeliveryRecord(
                **{k: v for k, v in row.items() if k in fields}, log=logs[row["reminder_id"]]
            )
            for row in rows
        ]


def _attempt(row: Any) -> DeliveryAttempt:
    fields = DeliveryAttempt.__struct_fields__
    return DeliveryAttempt(**{k: row[k] for k in fields})
