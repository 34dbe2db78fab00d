"""Event notifications through a real Celery worker (``casemgmt worker --beat``) and
broker, delivered to a real receiver on 127.0.0.1 that verifies every signature: the
``deadline_missed`` the worker's own missed-deadline scan records reaches a subscriber
of that event type, once, after the case's earlier events, retries included."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from casemgmt.adapters.sql.notifications import event_deliveries
from casemgmt.application.reminders.policy import WORKER, NewSubscription, new_secret
from casemgmt.bootstrap import Container
from tests.conftest import PG_URL, REDIS_URL
from tests.support.receiver import receiver
from tests.support.worker import ADMIN, Stack, case_with_deadline, wait_until, worker

COMBOS = [("sqlite", "sqla")]
if PG_URL:
    COMBOS.append(("postgres", "redis" if REDIS_URL else "sqla"))

pytestmark = pytest.mark.parametrize(
    ("backend", "broker"), COMBOS, ids=["-".join(c) for c in COMBOS]
)

SET_ON = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)
PAST_DUE_DAY = datetime(2026, 10, 28, 0, 30, tzinfo=UTC)  # 27 October is over in London
TYPES = ["case_opened", "deadline_set", "deadline_missed"]


@pytest.fixture
def stack(database_url: str, broker: str, tmp_path: Path) -> Iterator[Stack]:
    broker_url = f"sqla+sqlite:///{tmp_path}/broker.sqlite" if broker == "sqla" else REDIS_URL
    with receiver() as hooks:
        built = Stack(
            database_url=database_url,
            broker_url=broker_url,
            clock_file=tmp_path / "clock",
            var_dir=tmp_path / "var",
            hooks=hooks,
            queue=f"casemgmt-test-{uuid.uuid4().hex[:8]}",
        )
        built.set_clock(SET_ON)
        yield built


def subscribe_events(stack: Stack, name: str, types: list[str], **behaviour: object) -> str:
    secret = new_secret()
    url = stack.hooks.route(name, secret, **behaviour)
    # kinds names no deadline kind: this subscriber gets events, not reminders
    request = NewSubscription(url=url, secret=secret, kinds=["no_reminders"], event_types=types)

    async def work(c: Container) -> str:
        return (await c.subscriptions.create(ADMIN, request, c.clock.now())).subscription_id

    return stack.run(work)


def rows(stack: Stack, status: str) -> int:
    async def work(c: Container) -> int:
        d = event_deliveries
        query = sa.select(sa.func.count()).select_from(d).where(d.c.status == status)
        async with c.engine.connect() as conn:
            return int(await conn.scalar(query) or 0)

    return stack.run(work)


def test_the_worker_scans_deadline_missed_is_delivered_signed_in_order_once(
    stack: Stack, tmp_path: Path
) -> None:
    subscribe_events(stack, "events", TYPES)
    subscribe_events(stack, "flaky", ["deadline_missed"], fail=1)

    async def work(c: Container) -> None:
        for i in range(2):
            await case_with_deadline(c.cases, f"ofcom-miss-{i}", SET_ON.date(), date(2026, 10, 27))

    stack.run(work)
    stack.set_clock(PAST_DUE_DAY)
    with worker(stack.env(), tmp_path):
        wait_until(lambda: stack.count("deadline_missed") == 2, what="deadlines missed")
        wait_until(lambda: rows(stack, "delivered") == 8, what="8 notifications delivered")
    assert rows(stack, "pending") == 0
    seen = stack.hooks.seen("events")
    assert all(r.verified and r.answered == 200 for r in seen)
    assert stack.hooks.duplicates() == 0
    by_case: dict[str, list[tuple[int, str]]] = {}
    for r in seen:
        assert r.body is not None
        event = r.body["data"]["event"]
        assert r.body["data"]["case"] == {"case_id": event["case_id"], "regulator": "ofcom"}
        by_case.setdefault(event["case_id"], []).append((event["version"], event["type"]))
    expected = [(1, "case_opened"), (2, "deadline_set"), (3, "deadline_missed")]
    assert by_case == {"ofcom-miss-0": expected, "ofcom-miss-1": expected}
    flaky = stack.hooks.seen("flaky")
    assert sorted(r.answered for r in flaky) == [200, 200, 500]
    assert all(r.verified for r in flaky)
    missed = [r.body["data"]["event"] for r in flaky if r.body is not None and r.answered == 200]
    assert {e["type"] for e in missed} == {"deadline_missed"}
    assert len(missed) == 2
    assert {e["actor"] for e in missed} == {WORKER.actor}
