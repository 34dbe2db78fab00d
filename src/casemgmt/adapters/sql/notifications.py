"""Event notifications in SQL: the ``event_deliveries`` table, the inline projection that
fills it, the scan that claims it, and ``SqlNotificationStore`` (see
``application.notifications`` for the contract).

- ``NotificationProjector`` runs in every append's transaction (it is in the inline
  projectors, not in the rebuild registry: a rebuild must not announce old events
  again) and inserts a row per (event, listening subscription), insert-if-absent.
- ``claim_events`` claims, in one write transaction, pending rows whose lease ran out and
  that have no earlier pending row of the same case for the same subscription (feed
  order per case); PostgreSQL: ``FOR UPDATE SKIP LOCKED``, SQLite: ``BEGIN IMMEDIATE``.
  A row claimed before keeps its token, so every published copy carries the same one.
- Attempts are logged in ``delivery_attempts`` with the event id as ``reminder_id``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.secretbox import SecretBox
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.tables import UtcDateTime, metadata
from casemgmt.adapters.sql.reminders.store import _attempt_row, renew_claims
from casemgmt.adapters.sql.reminders.tables import delivery_attempts, subscriptions
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.notifications import NotificationJob, notification_rows
from casemgmt.application.ports import Closing
from casemgmt.application.readmodels import CaseChange
from casemgmt.application.reminders.policy import Subscription

__all__ = [
    "ListenedTypes",
    "NotificationProjector",
    "SqlNotificationStore",
    "claim_events",
    "event_deliveries",
]

event_deliveries = sa.Table(
    "event_deliveries",
    metadata,
    sa.Column("notification_id", sa.Text, primary_key=True),
    sa.Column("subscription_id", sa.Text, primary_key=True),
    sa.Column("webhook_id", sa.Text, nullable=False),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("regulator", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("claim_token", sa.Text),
    sa.Column("lease_until", UtcDateTime),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("delivered_at", UtcDateTime),
    sa.Index("ix_event_deliveries_status_lease_until", "status", "lease_until"),
    sa.Index(
        "ix_event_deliveries_subscription_case_version", "subscription_id", "case_id", "version"
    ),
)

_LIST = msgspec.json.Decoder(list[str] | None)
Claim = tuple[str, str, str]  # (notification_id, subscription_id, claim_token)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    return (postgresql.insert if dialect_of(conn) == "postgresql" else sqlite.insert)(table)


async def _listening(conn: AsyncConnection) -> list[Subscription]:
    """Subscriptions not deleted that list event types (their secrets stay sealed)."""
    s = subscriptions
    query = sa.select(s.c.subscription_id, s.c.regulators, s.c.event_types, s.c.created_at).where(
        s.c.deleted_at.is_(None), s.c.event_types.is_not(None)
    )
    found = []
    for row in await conn.execute(query):
        found.append(
            Subscription(
                subscription_id=row.subscription_id,
                url="",
                secret="",
                regulators=None if row.regulators is None else _LIST.decode(row.regulators),
                kinds=None,
                event_types=_LIST.decode(row.event_types),
                description="",
                created_by="",
                created_at=row.created_at,
            )
        )
    return found


class ListenedTypes:
    """The event types some subscription lists, read at most once per ``ttl`` seconds:
    PostgreSQL's group writer (``SqlCaseWriter``) asks it whether a group must take the
    transactional path, where ``NotificationProjector`` runs. So a subscription created in
    another process is honoured by that path within ``ttl`` (the projector itself always
    reads the subscriptions in the append's transaction)."""

    def __init__(self, engine: AsyncEngine, ttl: float = 1.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._types: frozenset[str] = frozenset()
        self._read_at = float("-inf")

    async def __call__(self, types: set[str]) -> bool:
        loop = asyncio.get_running_loop()
        if loop.time() - self._read_at >= self._ttl:
            s = subscriptions
            query = sa.select(s.c.event_types).where(
                s.c.deleted_at.is_(None), s.c.event_types.is_not(None)
            )
            async with self._engine.connect() as conn:
                found = [_LIST.decode(raw) or [] for raw in (await conn.scalars(query)).all()]
            self._types = frozenset(t for listed in found for t in listed)
            self._read_at = loop.time()
        return not self._types.isdisjoint(types)

    def forget(self) -> None:
        """Read again on the next call (this process created or deleted a subscription)."""
        self._read_at = float("-inf")


class NotificationProjector:
    """Inline projector: a delivery row per appended event per listening subscription."""

    name = "notifications"

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def apply(self, changes: Sequence[CaseChange]) -> None:
        if not changes:
            return
        listening = await _listening(self._conn)
        if not listening:
            return
        rows = notification_rows((e for c in changes for e in c.envelopes), listening)
        if not rows:
            return
        now = max(e.recorded_at for c in changes for e in c.envelopes)
        values = [
            {
                **msgspec.structs.asdict(r),
                "status": "pending",
                "attempts": 0,
                "generation": 0,
                "claim_token": None,
                "lease_until": None,
                "last_status_code": None,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                "delivered_at": None,
            }
            for r in rows
        ]
        insert = _insert(self._conn, event_deliveries).on_conflict_do_nothing(
            index_elements=["notification_id", "subscription_id"]
        )
        await self._conn.execute(insert, values)


async def claim_events(
    engine: AsyncEngine, now: datetime, batch: int, lease: float
) -> tuple[list[Claim], bool]:
    """Claim up to ``batch`` deliverable event rows for ``lease`` seconds; the flag is True
    when the batch was full (more may be waiting)."""
    d = event_deliveries
    earlier = event_deliveries.alias("earlier")
    claimable = sa.and_(
        d.c.status == "pending", sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now)
    )
    blocked = (
        sa.select(sa.literal(1))
        .where(
            earlier.c.subscription_id == d.c.subscription_id,
            earlier.c.case_id == d.c.case_id,
            earlier.c.version < d.c.version,
            earlier.c.status == "pending",
        )
        .exists()
    )
    token = uuid.uuid4().hex
    async with write_transaction(engine) as conn:
        pick = (
            sa.select(d.c.notification_id, d.c.subscription_id)
            .where(claimable, ~blocked)
            .order_by(d.c.created_at, d.c.case_id, d.c.version)
            .limit(batch)
        )
        if dialect_of(conn) == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        picked = [tuple(row) for row in (await conn.execute(pick)).all()]
        if not picked:
            return [], False
        stmt = (
            sa.update(d)
            .where(sa.tuple_(d.c.notification_id, d.c.subscription_id).in_(picked), claimable)
            .values(
                claim_token=sa.func.coalesce(d.c.claim_token, token),
                lease_until=now + timedelta(seconds=lease),
                updated_at=now,
            )
            .returning(d.c.notification_id, d.c.subscription_id, d.c.claim_token)
        )
        claimed = (await conn.execute(stmt)).all()
    return [(e, s, t) for e, s, t in claimed], len(picked) >= batch


_JOB = sa.select(
    event_deliveries.c.notification_id,
    event_deliveries.c.subscription_id,
    event_deliveries.c.webhook_id,
    event_deliveries.c.case_id,
    event_deliveries.c.event_type,
    event_deliveries.c.status,
    event_deliveries.c.claim_token,
    event_deliveries.c.attempts,
    event_deliveries.c.generation,
    event_deliveries.c.payload,
    subscriptions.c.url,
    subscriptions.c.secret,
    subscriptions.c.deleted_at.is_not(None).label("subscription_deleted"),
).select_from(
    event_deliveries.join(
        subscriptions, subscriptions.c.subscription_id == event_deliveries.c.subscription_id
    )
)


def _settle_statement(logged: bool) -> Any:
    d = event_deliveries
    values: dict[str, Any] = {
        "status": sa.bindparam("b_status"),
        "lease_until": sa.bindparam("b_lease_until"),
        "updated_at": sa.bindparam("b_at"),
        "delivered_at": sa.bindparam("b_delivered_at"),
    }
    if logged:
        values.update(
            attempts=sa.bindparam("b_attempts"),
            last_status_code=sa.bindparam("b_status_code"),
            last_error=sa.bindparam("b_error"),
        )
    return (
        sa.update(d)
        .where(
            d.c.notification_id == sa.bindparam("b_notification_id"),
            d.c.subscription_id == sa.bindparam("b_subscription_id"),
            d.c.claim_token == sa.bindparam("b_claim_token"),
            d.c.status == "pending",
        )
        .values(**values)
    )


_SETTLE = {logged: _settle_statement(logged) for logged in (False, True)}


def _settle_row(c: Closing) -> dict[str, Any]:
    row: dict[str, Any] = {
        "b_notification_id": c.reminder_id,
        "b_subscription_id": c.subscription_id,
        "b_claim_token": c.claim_token,
        "b_status": c.status,
        "b_lease_until": c.lease_until,
        "b_at": c.at,
        "b_delivered_at": c.at if c.status == "delivered" else None,
    }
    if c.attempt is not None:
        row.update(
            b_attempts=c.attempt.attempt,
            b_status_code=c.attempt.status_code,
            b_error=c.attempt.error,
        )
    return row


class SqlNotificationStore:
    """``NotificationStore`` over ``event_deliveries`` and ``subscriptions``."""

    def __init__(self, engine: AsyncEngine, secrets: SecretBox | None = None) -> None:
        self._engine = engine
        self._secrets = secrets or SecretBox()

    async def jobs(
        self, wanted: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], NotificationJob]:
        if not wanted:
            return {}
        d = event_deliveries
        query = _JOB.where(sa.tuple_(d.c.notification_id, d.c.subscription_id).in_(list(wanted)))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        jobs: dict[tuple[str, str], NotificationJob] = {}
        for row in rows:
            values = dict(row)
            values["subscription_deleted"] = bool(values["subscription_deleted"])
            values["secret"] = self._secrets.open(values["secret"])
            jobs[(values["notification_id"], values["subscription_id"])] = NotificationJob(**values)
        return jobs

    async def start(
        self, claims: Sequence[Claim], token: str, lease_until: datetime, now: datetime
    ) -> set[tuple[str, str]]:
        if not claims:
            return set()
        d = event_deliveries
        held = sa.tuple_(d.c.notification_id, d.c.subscription_id, d.c.claim_token).in_(
            [*claims, *((e, s, token) for e, s, _ in claims)]
        )
        stmt = (
            sa.update(d)
            .where(held, d.c.status == "pending")
            .values(claim_token=token, lease_until=lease_until, updated_at=now)
            .returning(d.c.notification_id, d.c.subscription_id)
        )
        async with write_transaction(self._engine) as conn:
            return {(e, s) for e, s in (await conn.execute(stmt)).all()}

    async def renew(
        self, keys: Sequence[tuple[str, str]], token: str, lease_until: datetime, now: datetime
    ) -> int:
        return await renew_claims(
            self._engine, event_deliveries, "notification_id", keys, token, lease_until, now
        )

    async def close(self, closings: Sequence[Closing]) -> None:
        if not closings:
            return
        async with write_transaction(self._engine) as conn:
            for logged in (False, True):
                rows = [_settle_row(c) for c in closings if (c.attempt is not None) == logged]
                if rows:
                    await conn.execute(_SETTLE[logged], rows)
            log = [
                {
                    "reminder_id": c.reminder_id,
                    "subscription_id": c.subscription_id,
                    **_attempt_row(c.attempt),
                }
                for c in closings
                if c.attempt is not None
            ]
            if log:
                await conn.execute(sa.insert(delivery_attempts), log)
