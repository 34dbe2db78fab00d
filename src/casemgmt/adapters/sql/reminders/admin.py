"""Operating the reminders: listing them, re-queueing dead letters, Prometheus gauges."""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casemgmt.adapters.sql.ops.metrics import ExtraGauges
from casemgmt.adapters.sql.reminders.tables import deliveries, reminder_fanout, reminders
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.reminders.policy import DELIVERY_STATUSES, SCHEDULE_STATUSES

__all__ = [
    "DELIVERY_STATUSES",
    "SCHEDULE_STATUSES",
    "ReminderListing",
    "list_reminders",
    "reminder_gauges",
    "retry_dead",
]


class ReminderListing(msgspec.Struct, frozen=True, kw_only=True):
    reminder_id: str
    case_id: str
    deadline_id: str
    offset_code: str
    send_at: datetime
    status: str
    delivered: int
    dead: int
    queued: int


def _counts() -> sa.Subquery:
    d = deliveries
    return (
        sa.select(
            d.c.reminder_id,
            *(
                sa.func.sum(sa.case((d.c.status == s, 1), else_=0)).label(name)
                for s, name in (("delivered", "delivered"), ("dead", "dead"), ("pending", "queued"))
            ),
        )
        .group_by(d.c.reminder_id)
        .subquery()
    )


async def list_reminders(
    engine: AsyncEngine, status: str | None, limit: int
) -> list[ReminderListing]:
    """Reminders by send instant, newest first, with their deliveries counted by outcome.

    ``status`` is a schedule status (``SCHEDULE_STATUSES``) or a delivery outcome
    (``DELIVERY_STATUSES``: reminders with at least one delivery in that state).
    """
    r, c = reminders, _counts()
    counted = [sa.func.coalesce(c.c[n], 0).label(n) for n in ("delivered", "dead", "queued")]
    query = sa.select(
        r.c.reminder_id,
        r.c.case_id,
        r.c.deadline_id,
        r.c.offset_code,
        r.c.send_at,
        r.c.status,
        *counted,
    ).select_from(r.outerjoin(c, c.c.reminder_id == r.c.reminder_id))
    if status in SCHEDULE_STATUSES:
        query = query.where(r.c.status == status)
    elif status in DELIVERY_STATUSES:
        query = query.where(c.c[status] > 0)
    query = query.order_by(r.c.send_at.desc(), r.c.reminder_id).limit(limit)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [ReminderListing(**row) for row in rows]


async def retry_dead(engine: AsyncEngine, reminder_id: str | None, now: datetime) -> int:
    """Re-queue dead-lettered deliveries (of one reminder, or all): the next scan claims
    them; a new failure appends a new ``reminder_failed`` (next generation)."""
    d = deliveries
    stmt = sa.update(d).where(d.c.status == "dead")
    if reminder_id is not None:
        stmt = stmt.where(d.c.reminder_id == reminder_id)
    stmt = stmt.values(
        status="pending",
        generation=d.c.generation + 1,
        attempts=0,
        claim_token=None,
        lease_until=None,
        updated_at=now,
    )
    async with write_transaction(engine) as conn:
        return int((await conn.execute(stmt)).rowcount)


def reminder_gauges(registry: CollectorRegistry) -> ExtraGauges:
    """Gauges of the reminder tables, refreshed at scrape time (``SystemMetrics.extra``):
    deliveries sent and failed, and the backlog of due work not yet delivered."""
    sent = Gauge(
        "casemgmt_reminders_sent", "Reminder deliveries that succeeded.", registry=registry
    )
    failed = Gauge(
        "casemgmt_reminders_failed", "Reminder deliveries dead-lettered.", registry=registry
    )
    backlog = Gauge(
        "casemgmt_reminders_due_backlog",
        "Due reminders not yet fanned out plus deliveries still pending.",
        registry=registry,
    )

    async def refresh(conn: AsyncConnection, now: datetime) -> None:
        d, r, f = deliveries, reminders, reminder_fanout
        by_status: dict[str, int] = dict(
            (await conn.execute(sa.select(d.c.status, sa.func.count()).group_by(d.c.status))).all()
        )
        unfanned = sa.select(sa.func.count()).select_from(
            r.outerjoin(f, f.c.reminder_id == r.c.reminder_id)
        )
        due = await conn.scalar(
            unfanned.where(r.c.status == "pending", r.c.send_at <= now, f.c.reminder_id.is_(None))
        )
        sent.set(by_status.get("delivered", 0))
        failed.set(by_status.get("dead", 0))
        backlog.set(int(due or 0) + by_status.get("pending", 0))

    return refresh
