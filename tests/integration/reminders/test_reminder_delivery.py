"""Claiming and delivering, in process, on SQLite and PostgreSQL, to a real receiver on
127.0.0.1 that verifies every signature: retries, dead letters, leases, racing scanners,
idempotent recording, filters and ``deadline_missed``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from tests.support.receiver import Receiver, receiver
from tests.support.worker import ADMIN, case_with_deadline, wait_until

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.reminders.store import (
    Claim,
    SqlDeliveryStore,
    SqlOverdueSource,
    claim_due,
)
from casemgmt.adapters.sql.reminders.subscriptions import SqlSubscriptionRepository
from casemgmt.adapters.sql.reminders.tables import deliveries
from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.reminders.delivery import MissedDeadlines, ReminderDelivery
from casemgmt.application.reminders.policy import (
    DeliveryOutcome,
    NewSubscription,
    RetryPolicy,
    new_secret,
)
from casemgmt.bootstrap import Container

#: Tuesday 20 October 2026 08:00 UTC: the -5wd reminder of a 27 October deadline is due.
DUE = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
LEASE = 60.0


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
async def delivery(container: Container, clock: FixedClock) -> AsyncIterator[ReminderDelivery]:
    client = build_client(5.0, container.targets)
    policy = RetryPolicy(max_attempts=3, base_seconds=0.0, max_seconds=60.0)
    yield ReminderDelivery(
        SqlDeliveryStore(container.engine),
        HttpxWebhookSender(client),
        container.cases,
        container.regimes,
        clock,
        policy,
        LEASE,
        random.Random(7),
    )
    await client.aclose()


async def subscribe(c: Container, hooks: Receiver, name: str, **kw: object) -> str:
    secret = new_secret()
    url = hooks.route(name, secret, **kw)
    sub = await c.subscriptions.create(
        ADMIN, NewSubscription(url=url, secret=secret, kinds=[name]), c.clock.now()
    )
    return sub.subscription_id


async def reminder_due(c: Container, clock: FixedClock, case_id: str, kind: str) -> None:
    """A deadline of ``kind`` due 27 Oct 2026; the clock moves to its -5wd reminder."""
    clock.set(datetime(2026, 10, 12, 8, tzinfo=UTC))
    await case_with_deadline(c.cases, case_id, date(2026, 10, 12), date(2026, 10, 27), kind=kind)
    clock.set(DUE)


async def drain(c: Container, d: ReminderDelivery) -> list[str]:
    """Scan and deliver until nothing is left; retries run at once (the policy's delays
    are Celery countdowns in the worker)."""
    outcomes: list[str] = []
    while claims := (await claim_due(c.engine, c.clock.now(), 100, LEASE))[0]:
        for rid, sid, token in claims:
            while (outcome := await d.deliver(rid, sid, token)).status == "retry":
                outcomes.append("retry")
                assert outcome.claim_token is not None
                token = outcome.claim_token
            outcomes.append(outcome.status)
    return outcomes


async def count(c: Container, type_: str, case_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(events).where(events.c.type == type_)
    if case_id is not None:
        query = query.where(events.c.case_id == case_id)
    async with c.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def test_failures_then_success_record_one_reminder_sent(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "flaky", fail=2)
    await reminder_due(container, clock, "ofcom-flaky-1", "flaky")
    assert await drain(container, delivery) == ["retry", "retry", "delivered"]
    seen = hooks.seen("flaky")
    assert [r.answered for r in seen] == [500, 500, 200]
    assert all(r.verified for r in seen)
    assert len({r.webhook_id for r in seen}) == 1
    assert await count(container, "reminder_sent", "ofcom-flaky-1") == 1
    body = seen[-1].body
    assert body is not None
    assert body["data"]["deadline"]["due_on"] == "2026-10-27"
    assert body["data"]["reminder"]["offset"] == "-5wd"
    assert (body["data"]["days_left"], body["data"]["working_days_left"]) == (7, 5)


async def test_a_receiver_that_always_fails_ends_in_reminder_failed(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    sub = await subscribe(container, hooks, "down", always_fail=True)
    await reminder_due(container, clock, "ofcom-down-1", "down")
    assert await drain(container, delivery) == ["retry", "retry", "dead"]
    assert await count(container, "reminder_failed", "ofcom-down-1") == 1
    assert await count(container, "reminder_sent", "ofcom-down-1") == 0
    [record] = await SqlSubscriptionRepository(container.engine).deliveries(sub, None, 10)
    assert (record.status, record.attempts, record.last_status_code) == ("dead", 3, 500)
    assert [a.outcome for a in record.log] == ["retry", "retry", "dead"]


async def test_a_4xx_is_not_retried_and_retry_after_is_honoured(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "gone", always_fail=True, status=410)
    await subscribe(container, hooks, "busy", fail=1, status=429, retry_after="7")
    await reminder_due(container, clock, "ofcom-gone-1", "gone")
    await reminder_due(container, clock, "ofcom-busy-1", "busy")
    [(rid, sid, token)] = await _claims_for(container, "ofcom-gone-1")
    assert (await delivery.deliver(rid, sid, token)).status == "dead"
    [(rid, sid, token)] = await _claims_for(container, "ofcom-busy-1", claim=False)
    outcome = await delivery.deliver(rid, sid, token)
    assert (outcome.status, outcome.retry_in) == ("retry", 7.0)
    assert outcome.claim_token is not None
    assert (await delivery.deliver(rid, sid, outcome.claim_token)).status == "delivered"


async def _claims_for(c: Container, case_id: str, claim: bool = True) -> list[Claim]:
    if claim:
        await claim_due(c.engine, c.clock.now(), 100, LEASE)
    query = sa.select(
        deliveries.c.reminder_id, deliveries.c.subscription_id, deliveries.c.claim_token
    )
    async with c.engine.connect() as conn:
        rows = await conn.execute(query.where(deliveries.c.case_id == case_id))
        return [(r[0], r[1], r[2]) for r in rows]


async def test_concurrent_scanners_never_claim_the_same_delivery(
    container: Container,
    clock: FixedClock,
    delivery: ReminderDelivery,
    hooks: Receiver,
    database_url: str,
) -> None:
    await subscribe(container, hooks, "race")
    await subscribe(container, hooks, "race2")
    await _many_due(container, clock, 30)
    engines = [create_engine(database_url, pool_size=2) for _ in range(4)]
    try:
        claimed: list[Claim] = []
        while True:
            rounds = await asyncio.gather(*(claim_due(e, DUE, 7, LEASE) for e in engines))
            batch = [c for claims, _ in rounds for c in claims]
            if not batch:
                break
            claimed.extend(batch)
    finally:
        for e in engines:
            await e.dispose()
    pairs = [(rid, sid) for rid, sid, _ in claimed]
    assert len(pairs) == len(set(pairs)) == 30
    for rid, sid, token in claimed:
        assert (await delivery.deliver(rid, sid, token)).status == "delivered"
    assert hooks.duplicates() == 0
    assert len(hooks.seen()) == 30
    assert await count(container, "reminder_sent") == 30


async def _many_due(c: Container, clock: FixedClock, n: int) -> None:
    """``n`` reminders due at ``DUE``: half for subscription kind race, half race2."""
    clock.set(datetime(2026, 10, 12, 8, tzinfo=UTC))
    for i in range(n):
        kind = "race" if i % 2 else "race2"
        await case_with_deadline(
            c.cases, f"ofcom-race-{i}", date(2026, 10, 12), date(2026, 10, 27), kind=kind
        )
    clock.set(DUE)


async def test_an_expired_claim_is_published_again_with_its_token_and_one_copy_sends(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "lease")
    await reminder_due(container, clock, "ofcom-lease-1", "lease")
    [(rid, sid, first)] = (await claim_due(container.engine, DUE, 10, LEASE))[0]
    assert (await claim_due(container.engine, DUE + timedelta(seconds=59), 10, LEASE))[0] == []
    clock.set(DUE + timedelta(seconds=61))
    # The task has not started within the claim: a scan publishes it again, same token,
    # so the copy already queued is not made stale (a backlog keeps draining).
    [(rid2, sid2, second)] = (await claim_due(container.engine, clock.now(), 10, LEASE))[0]
    assert (rid2, sid2, second) == (rid, sid, first)
    assert (await delivery.deliver(rid, sid, first, "task-a")).status == "delivered"
    assert (await delivery.deliver(rid, sid, second, "task-b")).status == "stale"  # the copy
    assert len(hooks.seen("lease")) == 1
    assert await count(container, "reminder_sent", "ofcom-lease-1") == 1


async def test_of_two_copies_of_a_claim_started_together_exactly_one_sends(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "copies")
    await reminder_due(container, clock, "ofcom-copies-1", "copies")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, LEASE))[0]
    outcomes = await asyncio.gather(
        *(delivery.deliver(rid, sid, token, f"task-{i}") for i in range(4))
    )
    assert sorted(o.status for o in outcomes) == ["delivered", "stale", "stale", "stale"]
    assert len(hooks.seen("copies")) == 1
    assert await count(container, "reminder_sent", "ofcom-copies-1") == 1


async def test_a_started_claim_whose_worker_died_is_published_again_after_the_lease(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "died")
    await reminder_due(container, clock, "ofcom-died-1", "died")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, LEASE))[0]
    store = SqlDeliveryStore(container.engine)
    lease = DUE + timedelta(seconds=LEASE)
    assert await store.start([(rid, sid, token)], "dead-task", lease, DUE) == {(rid, sid)}
    # The worker died mid-send: the scan's token is stale, the started one holds the lease.
    assert (await delivery.deliver(rid, sid, token, "task-b")).status == "stale"
    assert (await claim_due(container.engine, lease - timedelta(seconds=1), 10, LEASE))[0] == []
    clock.set(lease + timedelta(seconds=1))
    [(_, _, again)] = (await claim_due(container.engine, clock.now(), 10, LEASE))[0]
    assert again == "dead-task"
    assert (await delivery.deliver(rid, sid, again, "task-c")).status == "delivered"
    assert len(hooks.seen("died")) == 1


async def test_a_brokers_redelivery_of_the_same_task_takes_its_claim_again_at_once(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "redelivered")
    await reminder_due(container, clock, "ofcom-redelivered-1", "redelivered")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, LEASE))[0]
    store = SqlDeliveryStore(container.engine)
    lease = DUE + timedelta(seconds=LEASE)
    assert await store.start([(rid, sid, token)], "task-a", lease, DUE) == {(rid, sid)}
    # task-a's worker was killed; the broker redelivers task-a (same id, same arguments).
    assert (await delivery.deliver(rid, sid, token, "task-a")).status == "delivered"
    assert await count(container, "reminder_sent", "ofcom-redelivered-1") == 1


async def test_a_crash_after_recording_is_repaired_without_sending_again(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "crash")
    await reminder_due(container, clock, "ofcom-crash-1", "crash")
    assert await drain(container, delivery) == ["delivered"]
    async with container.engine.begin() as conn:  # as if the worker died before closing it
        await conn.execute(sa.update(deliveries).values(status="pending", lease_until=DUE))
    clock.set(DUE + timedelta(minutes=5))
    assert await drain(container, delivery) == ["delivered"]
    assert len(hooks.seen("crash")) == 1
    assert await count(container, "reminder_sent", "ofcom-crash-1") == 1


async def test_filters_and_a_deleted_subscription_get_nothing(
    container: Container, clock: FixedClock, delivery: ReminderDelivery, hooks: Receiver
) -> None:
    service = container.subscriptions
    secret = new_secret()
    url = hooks.route("ico-only", secret)
    await service.create(ADMIN, NewSubscription(url=url, secret=secret, regulators=["ico"]), DUE)
    deleted = await subscribe(container, hooks, "filtered")
    await service.delete(ADMIN, deleted, DUE)
    await reminder_due(container, clock, "ofcom-filtered-1", "filtered")
    assert await drain(container, delivery) == []
    assert hooks.seen() == []


async def test_a_missed_deadline_is_recorded_once_however_many_markers_run(
    container: Container, clock: FixedClock
) -> None:
    await reminder_due(container, clock, "ofcom-late-1", "late")
    clock.set(datetime(2026, 10, 27, 23, 59, 59, 500000, tzinfo=UTC))
    missed = MissedDeadlines(SqlOverdueSource(container.engine), container.cases, clock)
    assert await missed.mark(100) == 0  # the due instant passed, the local day has not
    clock.set(datetime(2026, 10, 28, 0, 1, tzinfo=UTC))
    results = await asyncio.gather(*(missed.mark(100) for _ in range(3)))
    assert sum(results) == 1
    assert await missed.mark(100) == 0
    assert await count(container, "deadline_missed", "ofcom-late-1") == 1


GRACE = 5.0


@pytest.fixture
async def graced(container: Container, clock: FixedClock) -> AsyncIterator[ReminderDelivery]:
    """Delivery as the worker builds it: scans claim for ``GRACE``, tasks take ``LEASE``."""
    client = build_client(5.0, container.targets)
    policy = RetryPolicy(max_attempts=3, base_seconds=1.0, max_seconds=1.0, floor_seconds=1.0)
    yield ReminderDelivery(
        SqlDeliveryStore(container.engine),
        HttpxWebhookSender(client),
        container.cases,
        container.regimes,
        clock,
        policy,
        LEASE,
        random.Random(7),
        start_grace_seconds=GRACE,
    )
    await client.aclose()


async def test_a_claim_whose_task_a_broker_lost_is_claimed_again_after_the_grace(
    container: Container, clock: FixedClock, graced: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "lost")
    await reminder_due(container, clock, "ofcom-lost-1", "lost")
    [(rid, sid, lost)] = (await claim_due(container.engine, DUE, 10, GRACE))[0]
    # The task never arrives (the broker lost it): within the grace nothing is claimable,
    soon = DUE + timedelta(seconds=GRACE - 1)
    assert (await claim_due(container.engine, soon, 10, GRACE))[0] == []
    # after it, the next scan claims the delivery again, long before the lease would end.
    clock.set(DUE + timedelta(seconds=GRACE + 1))
    [(rid2, sid2, again)] = (await claim_due(container.engine, clock.now(), 10, GRACE))[0]
    assert (rid2, sid2) == (rid, sid)
    assert (await graced.deliver(rid, sid, again)).status == "delivered"
    assert (await graced.deliver(rid, sid, lost)).status == "stale"  # the lost task, late
    assert len(hooks.seen("lost")) == 1
    assert await count(container, "reminder_sent", "ofcom-lost-1") == 1


async def test_a_started_task_holds_its_claim_beyond_the_grace(
    container: Container, clock: FixedClock, graced: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "slow", hold_after=0)
    await reminder_due(container, clock, "ofcom-slow-1", "slow")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, GRACE))[0]
    sending = asyncio.create_task(graced.deliver(rid, sid, token))
    held = lambda: hooks.routes["slow"].served > 0  # noqa: E731 - the request is held
    await asyncio.to_thread(wait_until, held, 30, "the request at the receiver")
    later = DUE + timedelta(seconds=LEASE - 1)  # grace long over, lease not
    reclaimed = (await claim_due(container.engine, later, 10, GRACE))[0]
    hooks.released.set()
    assert (await sending).status == "delivered"
    assert reclaimed == []
    assert len(hooks.seen("slow")) == 1


async def test_a_late_task_that_starts_before_any_reclaim_keeps_its_claim(
    container: Container, clock: FixedClock, graced: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "late-start")
    await reminder_due(container, clock, "ofcom-late-start-1", "late-start")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, GRACE))[0]
    clock.set(DUE + timedelta(seconds=GRACE + 10))  # grace over, no scan has run yet
    assert (await graced.deliver(rid, sid, token)).status == "delivered"
    assert (await claim_due(container.engine, clock.now(), 10, GRACE))[0] == []
    assert len(hooks.seen("late-start")) == 1


async def test_a_lost_retry_is_claimed_again_after_its_delay_and_the_grace(
    container: Container, clock: FixedClock, graced: ReminderDelivery, hooks: Receiver
) -> None:
    await subscribe(container, hooks, "lost-retry", fail=1)
    await reminder_due(container, clock, "ofcom-lost-retry-1", "lost-retry")
    [(rid, sid, token)] = (await claim_due(container.engine, DUE, 10, GRACE))[0]
    outcome = await graced.deliver(rid, sid, token)
    assert (outcome.status, outcome.retry_in) == ("retry", 1.0)
    # The retry task is lost with the broker; the claim lasts its delay plus the grace.
    inside = DUE + timedelta(seconds=1.0 + GRACE - 1)
    assert (await claim_due(container.engine, inside, 10, GRACE))[0] == []
    clock.set(DUE + timedelta(seconds=1.0 + GRACE + 1))
    [(_, _, again)] = (await claim_due(container.engine, clock.now(), 10, GRACE))[0]
    assert again == outcome.claim_token != token  # the attempt's own claim, published again
    assert (await graced.deliver(rid, sid, token)).status == "stale"  # the scan's old copy
    assert (await graced.deliver(rid, sid, again)).status == "delivered"
    assert [r.answered for r in hooks.seen("lost-retry")] == [500, 200]
    assert await count(container, "reminder_sent", "ofcom-lost-retry-1") == 1


async def test_a_backlog_queued_longer_than_the_grace_still_drains_once_each(
    container: Container, clock: FixedClock, graced: ReminderDelivery, hooks: Receiver
) -> None:
    """#12 item 3: tasks that wait in the queue beyond the start grace while scans keep
    running are not made stale by them; every reminder goes out once."""
    await subscribe(container, hooks, "race")
    await subscribe(container, hooks, "race2")
    await _many_due(container, clock, 24)
    queued = (await claim_due(container.engine, DUE, 100, GRACE))[0]
    republished: list[Claim] = []
    for scan in range(1, 4):  # three scans, each after the grace ran out again
        clock.set(DUE + timedelta(seconds=scan * (GRACE + 1)))
        republished += (await claim_due(container.engine, clock.now(), 100, GRACE))[0]
    assert sorted(republished) == sorted(queued * 3)
    outcomes = await graced.deliver_many(queued, "worker-task-1")  # the first copies
    assert [o.status for o in outcomes] == ["delivered"] * 24
    again = await graced.deliver_many(republished, "worker-task-2")
    assert {o.status for o in again} == {"stale"}
    assert hooks.duplicates() == 0
    assert len(hooks.seen()) == 24
    assert await count(container, "reminder_sent") == 24


async def test_a_batch_records_every_outcome_in_one_go_and_keeps_each_exactly_once(
    container: Container, clock: FixedClock, graced: ReminderDelivery, hooks: Receiver
) -> None:
    """Two subscriptions, so each case gets two outcomes in one batch; one receiver fails
    once (retry), one always answers 410 (dead letter); the rest are sent."""
    for route, kind, behaviour in (
        ("race", "race", {}),
        ("race2", "race2", {}),
        ("race-flaky", "race", {"fail": 1}),
        ("race-gone", "race2", {"always_fail": True, "status": 410}),
    ):
        secret = new_secret()
        url = hooks.route(route, secret, **behaviour)
        new = NewSubscription(url=url, secret=secret, kinds=[kind])
        await container.subscriptions.create(ADMIN, new, clock.now())
    await _many_due(container, clock, 10)
    claims = (await claim_due(container.engine, DUE, 100, GRACE))[0]
    assert len(claims) == 20
    first = await graced.deliver_many(claims, "batch-1")
    pairs = zip(claims, first, strict=True)
    retries = [(c[0], c[1], o.claim_token) for c, o in pairs if o.status == "retry"]
    assert len(retries) == 1
    second = await graced.deliver_many([(r, s, t or "") for r, s, t in retries], "batch-2")
    assert [o.status for o in second] == ["delivered"]
    assert await graced.deliver_many(claims, "batch-3") == [DeliveryOutcome(status="stale")] * 20
    assert hooks.duplicates() == 0
    assert await count(container, "reminder_sent") == 15
    assert await count(container, "reminder_failed") == 5
