"""Event notifications in SQL on SQLite and PostgreSQL: the inline projection records a
delivery row per matching event and subscription (and a rebuild records none again),
the claim keeps each case in feed order, and ``EventDelivery`` sends them signed to a
real receiver on 127.0.0.1, including the ``deadline_missed`` of ``MissedDeadlines``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from tests.support.receiver import Receiver, receiver
from tests.support.worker import ADMIN, case_with_deadline, post

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.notifications import SqlNotificationStore, claim_events, event_deliveries
from casemgmt.adapters.sql.reminders.store import SqlOverdueSource
from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.notifications import EventDelivery
from casemgmt.application.reminders.delivery import MissedDeadlines
from casemgmt.application.reminders.policy import NewSubscription, RetryPolicy, new_secret
from casemgmt.bootstrap import Container, Operations
from casemgmt.domain.events import DeadlineMet

TYPES = ["deadline_set", "deadline_met", "deadline_missed"]


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.fixture
async def delivery(container: Container, clock: FixedClock) -> AsyncIterator[EventDelivery]:
    client = build_client(5.0, container.targets)
    policy = RetryPolicy(max_attempts=3, base_seconds=0.0, max_seconds=60.0)
    yield EventDelivery(
        SqlNotificationStore(container.engine, container.secrets),
        HttpxWebhookSender(client),
        clock,
        policy,
        60.0,
        random.Random(7),
    )
    await client.aclose()


async def subscribe(
    c: Container, hooks: Receiver, name: str, types: list[str] | None, **kw: object
) -> str:
    secret = new_secret()
    url = hooks.route(name, secret)
    request = NewSubscription(url=url, secret=secret, event_types=types, **kw)  # type: ignore[arg-type]
    return (await c.subscriptions.create(ADMIN, request, c.clock.now())).subscription_id


async def stored(c: Container) -> list[tuple[str, str, int, str, str]]:
    d = event_deliveries
    query = sa.select(d.c.subscription_id, d.c.case_id, d.c.version, d.c.event_type, d.c.status)
    async with c.engine.connect() as conn:
        return sorted(tuple(r) for r in await conn.execute(query))  # type: ignore[misc]


async def test_events_are_recorded_once_claimed_in_case_order_and_delivered_signed(
    container: Container, clock: FixedClock, hooks: Receiver, delivery: EventDelivery
) -> None:
    c = container
    sub = await subscribe(c, hooks, "all", TYPES)
    await subscribe(c, hooks, "ico", TYPES, regulators=["ico"])
    await subscribe(c, hooks, "plain", None)
    on = clock.now().date()
    await case_with_deadline(c.cases, "ofcom-n-1", on, date(2026, 10, 27))
    await case_with_deadline(c.cases, "ofcom-n-2", on, date(2026, 10, 27))
    await post(c.cases, "ofcom-n-1", DeadlineMet(occurred_on=on, deadline_id="d1"))
    assert await stored(c) == [
        (sub, "ofcom-n-1", 2, "deadline_set", "pending"),
        (sub, "ofcom-n-1", 3, "deadline_met", "pending"),
        (sub, "ofcom-n-2", 2, "deadline_set", "pending"),
    ]
    await Operations(c).rebuild([])  # a rebuild announces nothing again
    assert len(await stored(c)) == 3

    first, more = await claim_events(c.engine, clock.now(), 10, 5.0)
    assert not more
    assert {s for _, s, _ in first} == {sub}
    assert len(first) == 2  # n-1's deadline_met waits for its deadline_set
    assert (await claim_events(c.engine, clock.now(), 10, 5.0))[0] == []
    assert {o.status for o in await delivery.deliver_many(first, "run-1")} == {"delivered"}
    second, _ = await claim_events(c.engine, clock.now(), 10, 5.0)
    assert len(second) == 1
    assert {o.status for o in await delivery.deliver_many(second, "run-2")} == {"delivered"}
    # a stale copy of an already delivered claim sends nothing
    assert [o.status for o in await delivery.deliver_many(second, "run-3")] == ["stale"]

    seen = hooks.seen("all")
    assert all(r.verified and r.answered == 200 for r in seen)
    assert hooks.duplicates() == 0
    order = [
        (r.body["data"]["case"]["case_id"], r.body["data"]["event"]["version"])
        for r in seen
        if r.body is not None
    ]
    assert [v for case, v in order if case == "ofcom-n-1"] == [2, 3]
    assert sorted(order) == [("ofcom-n-1", 2), ("ofcom-n-1", 3), ("ofcom-n-2", 2)]
    assert hooks.seen("ico") == []
    assert hooks.seen("plain") == []

    clock.set(clock.now() + timedelta(days=17))  # past 27 October in London
    marked = await MissedDeadlines(SqlOverdueSource(c.engine), c.cases, clock).mark(10)
    assert marked == 1  # n-2's deadline; n-1's was met
    missed, _ = await claim_events(c.engine, clock.now(), 10, 5.0)
    assert [o.status for o in await delivery.deliver_many(missed, "run-4")] == ["delivered"]
    last = hooks.seen("all")[-1]
    assert last.verified
    assert last.body is not None
    assert last.body["event_type"] == "deadline_missed"
    assert last.body["data"]["case"] == {"case_id": "ofcom-n-2", "regulator": "ofcom"}
    assert [s for *_, s in await stored(c)] == ["delivered"] * 4
