"""Claiming due reminders and keeping the delivery records (the worker's SQL side).

``claim_due`` runs one write transaction that (1) fans out due reminders nobody claimed
yet: a ``reminder_fanout`` row per reminder (insert-if-absent; on PostgreSQL a concurrent
scanner blocks on the primary key and then inserts nothing) and a ``deliveries`` row per
matching subscription; and (2) claims deliveries that are pending and not leased, for
``lease`` seconds (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: the transaction holds
the write lock from ``BEGIN IMMEDIATE``). Two scanners therefore never claim the same
delivery. A delivery claimed for the first time gets a fresh ``claim_token``; one whose
claim ran out (its task never started, or a broker lost it) keeps its token, so every
published copy of it carries the same token and ``SqlDeliveryStore.start`` lets exactly
one of them take it (swapping the token for the task's own). Tasks are enqueued only
after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.secretbox import SecretBox
from casemgmt.adapters.sql.engine import dialect_of
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.readmodels.tables import deadlines
from casemgmt.adapters.sql.reminders.subscriptions import active_subscriptions
from casemgmt.adapters.sql.reminders.tables import (
    deliveries,
    delivery_attempts,
    reminder_fanout,
    reminders,
    subscriptions,
)
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.reminders.policy import (
    Closing,
    DeliveryAttempt,
    DeliveryJob,
    OverdueDeadline,
    Subscription,
    webhook_id,
)

__all__ = [
    "Claim",
    "SqlDeliveryStore",
    "SqlOverdueSource",
    "claim_due",
    "close_deliveries",
    "close_delivery",
    "renew_claims",
]

Claim = tuple[str, str, str]  # (reminder_id, subscription_id, claim_token)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    return (postgresql.insert if dialect_of(conn) == "postgresql" else sqlite.insert)(table)


async def claim_due(
    engine: AsyncEngine, now: datetime, batch: int, lease: float
) -> tuple[list[Claim], bool]:
    """Fan out up to ``batch`` due reminders and claim up to ``batch`` deliveries, in one
    transaction; the flag is True when either hit ``batch`` (more may be waiting)."""
    token = uuid.uuid4().hex
    async with write_transaction(engine) as conn:
        fanned = await _fan_out(conn, now, batch)
        claimed = await _claim(conn, now, batch, token, now + timedelta(seconds=lease))
    return [(r, s, t) for r, s, t in claimed], max(fanned, len(claimed)) >= batch


async def _fan_out(conn: AsyncConnection, now: datetime, batch: int) -> int:
    r, f = reminders, reminder_fanout
    due = (
        sa.select(r.c.reminder_id, r.c.case_id, r.c.deadline_id, r.c.regulator, r.c.kind)
        .select_from(r.outerjoin(f, f.c.reminder_id == r.c.reminder_id))
        .where(r.c.status == "pending", r.c.send_at <= now, f.c.reminder_id.is_(None))
        .order_by(r.c.send_at, r.c.reminder_id)
        .limit(batch)
    )
    rows = (await conn.execute(due)).all()
    if not rows:
        return 0
    subs = await active_subscriptions(conn)
    matching = {
        row.reminder_id: [s for s in subs if s.matches(row.regulator, row.kind)] for row in rows
    }
    fanned = [
        {"reminder_id": k, "claimed_at": now, "subscriptions": len(v)} for k, v in matching.items()
    ]
    insert = _insert(conn, f).on_conflict_do_nothing(index_elements=["reminder_id"])
    won = {row[0] for row in await conn.execute(insert.returning(f.c.reminder_id), fanned)}
    new = [
        _delivery(row, s, now)
        for row in rows
        if row.reminder_id in won
        for s in matching[row.reminder_id]
    ]
    if new:
        insert = _insert(conn, deliveries).on_conflict_do_nothing(
            index_elements=["reminder_id", "subscription_id"]
        )
        await conn.execute(insert, new)
    return len(rows)


def _delivery(row: Any, sub: Subscription, now: datetime) -> dict[str, Any]:
    return {
        "reminder_id": row.reminder_id,
        "subscription_id": sub.subscription_id,
        "webhook_id": webhook_id(row.reminder_id, sub.subscription_id),
        "case_id": row.case_id,
        "deadline_id": row.deadline_id,
        "regulator": row.regulator,
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


async def _claim(
    conn: AsyncConnection, now: datetime, batch: int, token: str, lease_until: datetime
) -> Sequence[Any]:
    d = deliveries
    claimable = sa.and_(
        d.c.status == "pending", sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now)
    )
    pick = (
        sa.select(d.c.reminder_id, d.c.subscription_id)
        .where(claimable)
        .order_by(d.c.created_at)
        .limit(batch)
    )
    if dialect_of(conn) == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        sa.update(d)
        .where(sa.tuple_(d.c.reminder_id, d.c.subscription_id).in_(pick), claimable)
        .values(
            claim_token=sa.func.coalesce(d.c.claim_token, token),
            lease_until=lease_until,
            updated_at=now,
        )
        .returning(d.c.reminder_id, d.c.subscription_id, d.c.claim_token)
    )
    return (await conn.execute(stmt)).all()


def _job_query() -> sa.Select[Any]:
    d, r, dl, s = deliveries, reminders, deadlines, subscriptions
    return sa.select(
        d.c.reminder_id,
        d.c.subscription_id,
        d.c.webhook_id,
        d.c.claim_token,
        d.c.status,
        d.c.attempts,
        d.c.generation,
        r.c.status.label("reminder_status"),
        r.c.offset_code,
        r.c.send_at,
        d.c.case_id,
        d.c.deadline_id,
        d.c.regulator,
        r.c.regime,
        r.c.kind,
        dl.c.label,
        dl.c.due_on,
        dl.c.due_at,
        dl.c.status.label("deadline_status"),
        dl.c.subject,
        dl.c.title,
        dl.c.timezone,
        s.c.url,
        s.c.secret,
        s.c.deleted_at.is_not(None).label("subscription_deleted"),
        dl.c.party,
        dl.c.obligation,
        dl.c.ours,
    ).select_from(
        d.join(r, r.c.reminder_id == d.c.reminder_id)
        .join(s, s.c.subscription_id == d.c.subscription_id)
        .join(dl, sa.and_(dl.c.case_id == d.c.case_id, dl.c.deadline_id == d.c.deadline_id))
    )


_JOB = _job_query()


#: Which of these event ids are stored (any regulator), on PostgreSQL: ``event_ids``'s
#: primary key leads with the id, where ``events`` (partitioned) has no index on it.
_PG_SENT = sa.text("SELECT event_id FROM event_ids WHERE event_id = ANY(:ids)").bindparams(
    sa.bindparam("ids", type_=postgresql.ARRAY(sa.Text))
)


async def renew_claims(
    engine: AsyncEngine,
    table: sa.Table,
    id_column: str,
    keys: Sequence[tuple[str, str]],
    token: str,
    lease_until: datetime,
    now: datetime,
) -> int:
    """Extend the claims of ``keys`` ((``id_column``, subscription) pairs of a delivery
    ``table``) still pending under ``token`` to ``lease_until``; how many were extended.
    Shared by the reminder and the event-notification deliveries."""
    if not keys:
        return 0
    stmt = (
        sa.update(table)
        .where(
            sa.tuple_(table.c[id_column], table.c.subscription_id).in_(list(keys)),
            table.c.claim_token == token,
            table.c.status == "pending",
        )
        .values(lease_until=lease_until, updated_at=now)
    )
    async with write_transaction(engine) as conn:
        return int((await conn.execute(stmt)).rowcount)


class SqlDeliveryStore:
    """``DeliveryStore`` over ``deliveries``, ``delivery_attempts`` and their joins."""

    def __init__(self, engine: AsyncEngine, secrets: SecretBox | None = None) -> None:
        self._engine = engine
        self._secrets = secrets or SecretBox()

    async def job(self, reminder_id: str, subscription_id: str, sent_id: str) -> DeliveryJob | None:
        return (await self.jobs([(reminder_id, subscription_id, sent_id)])).get(
            (reminder_id, subscription_id)
        )

    async def jobs(
        self, wanted: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str], DeliveryJob]:
        """``job`` for many (reminder, subscription, sent event id) in two queries."""
        if not wanted:
            return {}
        d = deliveries
        keys = [(r, s) for r, s, _ in wanted]
        query = _JOB.where(sa.tuple_(d.c.reminder_id, d.c.subscription_id).in_(keys))
        sent_ids = [sent for _, _, sent in wanted]
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            if dialect_of(conn) == "postgresql":  # ``events`` is partitioned: its id table
                found = await conn.execute(_PG_SENT, {"ids": sent_ids})
            else:
                found = await conn.execute(
                    sa.select(events.c.event_id).where(events.c.event_id.in_(sent_ids))
                )
            sent = {row[0] for row in found}
        sent_of = {(r, s): i for r, s, i in wanted}
        jobs: dict[tuple[str, str], DeliveryJob] = {}
        for row in rows:
            values = dict(row)
            key = (values["reminder_id"], values["subscription_id"])
            values["already_sent"] = sent_of[key] in sent
            for flag in ("subscription_deleted", "ours"):
                values[flag] = bool(values[flag])
            values["secret"] = self._secrets.open(values["secret"])
            jobs[key] = DeliveryJob(**values)
        return jobs

    async def start(
        self, claims: Sequence[Claim], token: str, lease_until: datetime, now: datetime
    ) -> set[tuple[str, str]]:
        """Take the pending deliveries whose claim is still ``claims``' token (or already
        ``token``: a redelivered copy of the same task) for ``token`` until
        ``lease_until``; the (reminder, subscription) pairs taken."""
        if not claims:
            return set()
        d = deliveries
        held = sa.tuple_(d.c.reminder_id, d.c.subscription_id, d.c.claim_token).in_(
            [*claims, *((r, s, token) for r, s, _ in claims)]
        )
        stmt = (
            sa.update(d)
            .where(held, d.c.status == "pending")
            .values(claim_token=token, lease_until=lease_until, updated_at=now)
            .returning(d.c.reminder_id, d.c.subscription_id)
        )
        async with write_transaction(self._engine) as conn:
            return {(r, s) for r, s in (await conn.execute(stmt)).all()}

    async def renew(
        self, keys: Sequence[tuple[str, str]], token: str, lease_until: datetime, now: datetime
    ) -> int:
        """Extend the claims of ``keys`` still pending under ``token`` to ``lease_until``."""
        return await renew_claims(
            self._engine, deliveries, "reminder_id", keys, token, lease_until, now
        )

    async def settle(self, closing: Closing) -> None:
        async with write_transaction(self._engine) as conn:
            await close_delivery(conn, closing)


async def close_delivery(conn: AsyncConnection, closing: Closing) -> None:
    """``close_deliveries`` for one."""
    await close_deliveries(conn, [closing])


def _settle_statement(logged: bool) -> Any:
    d = deliveries
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
            d.c.reminder_id == sa.bindparam("b_reminder_id"),
            d.c.subscription_id == sa.bindparam("b_subscription_id"),
            d.c.claim_token == sa.bindparam("b_claim_token"),
            d.c.status == "pending",
        )
        .values(**values)
    )


_SETTLE = {logged: _settle_statement(logged) for logged in (False, True)}


async def close_deliveries(conn: AsyncConnection, closings: Sequence[Closing]) -> None:
    """Settle deliveries and log their attempts on ``conn`` (the append's transaction; see
    ``CaseUnitOfWork.close_deliveries``): each only while it is pending under its
    closing's claim token; attempts are logged either way. A few statements in all."""
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


def _settle_row(closing: Closing) -> dict[str, Any]:
    row: dict[str, Any] = {
        "b_reminder_id": closing.reminder_id,
        "b_subscription_id": closing.subscription_id,
        "b_claim_token": closing.claim_token,
        "b_status": closing.status,
        "b_lease_until": closing.lease_until,
        "b_at": closing.at,
        "b_delivered_at": closing.at if closing.status == "delivered" else None,
    }
    if closing.attempt is not None:
        row.update(
            b_attempts=closing.attempt.attempt,
            b_status_code=closing.attempt.status_code,
            b_error=closing.attempt.error,
        )
    return row


def _attempt_row(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "generation": attempt.generation,
        "at": attempt.at,
        "duration_ms": attempt.duration_ms,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "outcome": attempt.outcome,
    }


class SqlOverdueSource:
    """``OverdueSource`` over the deadline queue (``deadlines``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def overdue(self, now: datetime, limit: int) -> list[OverdueDeadline]:
        dl = deadlines
        query = (
            sa.select(dl.c.case_id, dl.c.deadline_id, dl.c.due_on, dl.c.timezone, dl.c.obligation)
            .where(dl.c.status == "open", dl.c.due_at < now)
            .order_by(dl.c.due_at, dl.c.case_id, dl.c.deadline_id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [OverdueDeadline(**row) for row in rows]
