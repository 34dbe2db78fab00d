"""A batch in flight, on SQLite and PostgreSQL, against a real receiver that holds requests:
what was sent is recorded before the rest of the batch finishes (a kill -9 re-sends only
what was unrecorded), and a started batch renews its claims while it runs, so a task
whose worker died strands its reminders one lease after its last heartbeat, not for
as long as the batch would have taken."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa
from tests.integration.reminders.test_reminder_delivery import (
    DUE,
    count,
    reminder_due,
    subscribe,
)
from tests.support.receiver import Receiver, receiver
from tests.support.worker import wait_until

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.case_uow import CaseSqlUnitOfWork
from casemgmt.adapters.sql.reminders.store import SqlDeliveryStore, claim_due
from casemgmt.adapters.sql.reminders.tables import deliveries
from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.reminders.delivery import ReminderDelivery
from casemgmt.application.reminders.policy import RetryPolicy
from casemgmt.application.reminders.recording import OutcomeRecorder
from casemgmt.bootstrap import Container

LEASE = 60.0  # of the test's clock
GRACE = 5.0
HEARTBEAT = 0.05  # real seconds: the test waits for renewals, it never sleeps for them


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
async def worker_delivery(
    container: Container, clock: FixedClock
) -> AsyncIterator[ReminderDelivery]:
    """Delivery as the worker builds it: batch recorder, start grace, a fast heartbeat."""
    c = container
    client = build_client(5.0, c.targets)
    recorder = OutcomeRecorder(
        partial(CaseSqlUnitOfWork, c.engine, c.codec, c.clock, c.projectors), c.regimes, clock
    )
    yield ReminderDelivery(
        SqlDeliveryStore(c.engine),
        HttpxWebhookSender(client),
        c.cases,
        c.regimes,
        clock,
        RetryPolicy(max_attempts=3, base_seconds=1.0, max_seconds=1.0),
        LEASE,
        random.Random(7),
        start_grace_seconds=GRACE,
        recorder=recorder,
        parallel=8,
        heartbeat_seconds=HEARTBEAT,
    )
    await client.aclose()


async def test_what_was_sent_is_recorded_while_the_rest_of_the_batch_is_held(
    container: Container,
    clock: FixedClock,
    worker_delivery: ReminderDelivery,
    hooks: Receiver,
) -> None:
    await subscribe(container, hooks, "held", hold_after=3)
    for i in range(8):
        await reminder_due(container, clock, f"ofcom-held-{i}", "held")
    claims = (await claim_due(container.engine, DUE, 100, GRACE))[0]
    batch = asyncio.create_task(worker_delivery.deliver_many(claims, "task-1"))
    # Three answered, five held at the receiver: the three are recorded meanwhile.
    await _until(lambda: _sent(container), 3)
    assert not batch.done()
    assert hooks.routes["held"].served == 8
    hooks.released.set()
    assert [o.status for o in await batch] == ["delivered"] * 8
    assert await count(container, "reminder_sent") == 8
    assert hooks.duplicates() == 0


async def test_a_started_batch_keeps_its_claims_past_the_lease_and_an_abandoned_one_not(
    container: Container,
    clock: FixedClock,
    worker_delivery: ReminderDelivery,
    hooks: Receiver,
) -> None:
    await subscribe(container, hooks, "abandoned", hold_after=0)
    await reminder_due(container, clock, "ofcom-abandoned-1", "abandoned")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, GRACE))[0]
    batch = asyncio.create_task(worker_delivery.deliver_many([(rid, sid, token)], "task-1"))
    await asyncio.to_thread(wait_until, lambda: hooks.routes["abandoned"].served == 1)
    # The request is held far beyond the lease: the live task's heartbeat renews it.
    clock.set(DUE + timedelta(seconds=3 * LEASE))
    await _until(lambda: _lease_until(container), clock.now() + timedelta(seconds=LEASE))
    assert (await claim_due(container.engine, clock.now(), 10, GRACE))[0] == []
    # The worker dies mid-send (its heartbeat stops with it).
    abandoned_at = clock.now()
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    lease_until = await _lease_until(container)
    assert lease_until <= abandoned_at + timedelta(seconds=LEASE)
    assert (await claim_due(container.engine, lease_until - timedelta(seconds=1), 10, GRACE))[
        0
    ] == []
    clock.set(lease_until + timedelta(seconds=1))  # the next scan after the lease ran out
    [(_, _, again)] = (await claim_due(container.engine, clock.now(), 10, GRACE))[0]
    assert again == "task-1"  # published again with the dead task's token
    hooks.routes["abandoned"].hold_after = None
    hooks.released.set()
    assert (await worker_delivery.deliver(rid, sid, again, "task-2")).status == "delivered"
    assert await count(container, "reminder_sent") == 1
    # Sent twice (the held request, then the new task's), with one webhook-id.
    await asyncio.to_thread(wait_until, lambda: len(hooks.seen("abandoned")) == 2)
    assert len({r.webhook_id for r in hooks.seen("abandoned")}) == 1


async def _sent(c: Container) -> int:
    return await count(c, "reminder_sent")


async def _lease_until(c: Container) -> datetime:
    async with c.engine.connect() as conn:
        value = await conn.scalar(sa.select(deliveries.c.lease_until))
    assert isinstance(value, datetime)
    return value


async def _until(read: object, at_least: object) -> None:
    """Poll ``read()`` (a coroutine) until it reaches ``at_least`` (work finishing)."""
    for _ in range(3000):
        if await read() >= at_least:  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached {at_least}")
