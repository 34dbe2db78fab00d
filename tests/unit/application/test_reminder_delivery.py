"""ReminderDelivery and MissedDeadlines on the in-memory adapters.

The webhook receiver is the boundary: ``ScriptedSender`` answers what a test scripts and
records what it was asked to send. Everything else is the real application code.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import msgspec
import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import (
    Delivery,
    MemoryDatabase,
    MemoryDeliveryStore,
    MemoryOverdueSource,
)
from casemgmt.application.cases import CaseService
from casemgmt.application.reminders.delivery import (
    MissedDeadlines,
    ReminderDelivery,
    closed_event_id,
    failed_event_id,
    missed_event_id,
    sent_event_id,
)
from casemgmt.application.reminders.policy import RetryPolicy, SendResult
from casemgmt.domain.events import DeadlineMet, DeadlineSet
from tests.support.worker import case_with_deadline, post
from tests.unit.application.conftest import NOW, regimes

JAN5 = date(2026, 1, 5)
POLICY = RetryPolicy(max_attempts=3, base_seconds=2.0, max_seconds=60.0)
LEASE = 30.0


class ScriptedSender:
    """A webhook receiver that answers each request with the next scripted result."""

    def __init__(self, *results: SendResult) -> None:
        self.results = list(results)
        self.sent: list[tuple[str, str, dict[str, object]]] = []

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        self.sent.append((url, message_id, msgspec.json.decode(body)))
        return self.results.pop(0)


def claimed(**changes: object) -> Delivery:
    delivery = Delivery(
        reminder_id="r-1",
        subscription_id="s-1",
        case_id="ofcom-c-1",
        deadline_id="d1",
        offset_code="-1d",
        send_at=NOW - timedelta(minutes=5),
        url="https://hooks.example.org/casemgmt",
        secret="whsec_test",
        claim_token="t-1",
    )
    return replace(delivery, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def deliveries(cases: CaseService, db: MemoryDatabase) -> MemoryDeliveryStore:
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 21))
    store = MemoryDeliveryStore(db)
    await store.put(claimed())
    return store


def delivery(
    store: MemoryDeliveryStore, sender: ScriptedSender, cases: CaseService, clock: FixedClock
) -> ReminderDelivery:
    return ReminderDelivery(
        store, sender, cases, regimes(), clock, POLICY, LEASE, rng=random.Random(7)
    )


def event_ids(db: MemoryDatabase, type_tag: str) -> list[str]:
    return [r.event_id for r in db.tables.events if r.type == type_tag]


async def test_a_2xx_records_reminder_sent_and_closes_the_delivery_with_it(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    sender = ScriptedSender(SendResult(status_code=204, duration_ms=12))

    outcome = await delivery(deliveries, sender, cases, clock).deliver("r-1", "s-1", "t-1")

    assert outcome.status == "delivered"
    assert event_ids(db, "reminder_sent") == [sent_event_id("r-1", "s-1")]
    closed = deliveries.get("r-1", "s-1")
    assert closed is not None
    assert (closed.status, closed.attempts, closed.delivered_at) == ("delivered", 1, NOW)
    assert [a.outcome for a in closed.log] == ["delivered"]
    (url, _, body) = sender.sent[0]
    assert url == "https://hooks.example.org/casemgmt"
    assert body["data"]["deadline"]["deadline_id"] == "d1"  # type: ignore[index]
    assert body["data"]["days_left"] == 1  # type: ignore[index]
    sides = {k: body["data"]["deadline"][k] for k in ("party", "obligation", "ours", "side")}  # type: ignore[index]
    assert sides == {"party": "subject", "obligation": "duty", "ours": False, "side": "theirs"}


async def test_a_5xx_is_retried_after_a_jittered_backoff_holding_the_lease(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    sender = ScriptedSender(SendResult(status_code=503), SendResult(status_code=200))
    worker = delivery(deliveries, sender, cases, clock)

    first = await worker.deliver("r-1", "s-1", "t-1")

    assert first.status == "retry"
    assert first.retry_in is not None
    assert 0 <= first.retry_in <= POLICY.base_seconds
    held = deliveries.get("r-1", "s-1")
    assert held is not None
    assert (held.status, held.attempts) == ("pending", 1)
    assert held.lease_until == NOW + timedelta(seconds=first.retry_in + LEASE)
    assert event_ids(db, "reminder_sent") == []
    # The retry carries the token the attempt held; the scan's old token is stale now.
    assert first.claim_token not in (None, "t-1")
    assert (await worker.deliver("r-1", "s-1", "t-1")).status == "stale"
    second = await worker.deliver("r-1", "s-1", first.claim_token or "")
    assert second.status == "delivered"
    done = deliveries.get("r-1", "s-1")
    assert done is not None
    assert [a.outcome for a in done.log] == ["retry", "delivered"]
    assert done.attempts == 2


async def test_retry_after_is_respected(
    deliveries: MemoryDeliveryStore, cases: CaseService, clock: FixedClock
) -> None:
    sender = ScriptedSender(SendResult(status_code=429, retry_after=20.0))

    outcome = await delivery(deliveries, sender, cases, clock).deliver("r-1", "s-1", "t-1")

    assert outcome.status == "retry"
    assert outcome.retry_in == 20.0


async def test_a_4xx_dead_letters_at_once_and_records_reminder_failed(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    sender = ScriptedSender(SendResult(status_code=404, error="no such hook"))

    outcome = await delivery(deliveries, sender, cases, clock).deliver("r-1", "s-1", "t-1")

    assert outcome.status == "dead"
    assert event_ids(db, "reminder_failed") == [failed_event_id("r-1", "s-1", 0)]
    (failed,) = [
        db.codec.decode(r.type, r.schema_version, r.data)
        for r in db.tables.events
        if r.type == "reminder_failed"
    ]
    assert failed.error == "HTTP 404: no such hook"  # type: ignore[attr-defined]
    dead = deliveries.get("r-1", "s-1")
    assert dead is not None
    assert (dead.status, dead.attempts) == ("dead", 1)


async def test_the_last_allowed_attempt_dead_letters_even_a_retryable_failure(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await deliveries.put(claimed(attempts=POLICY.max_attempts - 1))
    sender = ScriptedSender(SendResult(status_code=None, error="connection refused"))

    outcome = await delivery(deliveries, sender, cases, clock).deliver("r-1", "s-1", "t-1")

    assert outcome.status == "dead"
    assert len(event_ids(db, "reminder_failed")) == 1
    dead = deliveries.get("r-1", "s-1")
    assert dead is not None
    assert dead.attempts == POLICY.max_attempts


async def test_an_event_stored_before_a_crash_closes_the_delivery_without_sending_again(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    worker = delivery(deliveries, ScriptedSender(SendResult(status_code=200)), cases, clock)
    await worker.deliver("r-1", "s-1", "t-1")
    await deliveries.put(claimed(claim_token="t-2"))  # the event stayed; the row did not
    silent = ScriptedSender()

    outcome = await delivery(deliveries, silent, cases, clock).deliver("r-1", "s-1", "t-2")

    assert outcome.status == "delivered"
    assert silent.sent == []
    assert len(event_ids(db, "reminder_sent")) == 1


async def test_a_stale_claim_does_nothing(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    sender = ScriptedSender()

    outcome = await delivery(deliveries, sender, cases, clock).deliver("r-1", "s-1", "t-old")

    assert outcome.status == "stale"
    assert sender.sent == []
    assert deliveries.get("r-1", "s-1") == claimed()


async def test_a_reminder_of_a_met_deadline_is_cancelled_without_a_request(
    deliveries: MemoryDeliveryStore, cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await post(cases, "ofcom-c-1", DeadlineMet(occurred_on=date(2026, 1, 19), deadline_id="d1"))
    sender = ScriptedSender()

    outcome = await delivery(deliveries, sender, cases, clock).deliver("r-1", "s-1", "t-1")

    assert outcome.status == "cancelled"
    assert sender.sent == []
    cancelled = deliveries.get("r-1", "s-1")
    assert cancelled is not None
    assert cancelled.status == "cancelled"


def missed(db: MemoryDatabase, cases: CaseService, clock: FixedClock) -> MissedDeadlines:
    return MissedDeadlines(MemoryOverdueSource(db), cases, clock)


async def test_a_passed_due_day_is_marked_missed_once(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 9))
    await case_with_deadline(cases, "ofcom-c-2", JAN5, date(2026, 1, 30))

    first = await missed(db, cases, clock).mark(limit=10)
    again = await missed(db, cases, clock).mark(limit=10)

    assert (first, again) == (1, 0)
    assert event_ids(db, "deadline_missed") == [missed_event_id("ofcom-c-1", "d1", "2026-01-09")]
    assert db.tables.deadlines[("ofcom-c-1", "d1")].status == "missed"
    assert db.tables.deadlines[("ofcom-c-2", "d1")].status == "open"


async def test_a_met_deadline_is_not_marked_and_the_limit_bounds_a_call(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    for case_id, due in (("ofcom-c-1", date(2026, 1, 7)), ("ofcom-c-2", date(2026, 1, 8))):
        await case_with_deadline(cases, case_id, JAN5, due)
    await case_with_deadline(cases, "ofcom-c-3", JAN5, date(2026, 1, 9))
    await post(cases, "ofcom-c-3", DeadlineMet(occurred_on=date(2026, 1, 8), deadline_id="d1"))
    marker = missed(db, cases, clock)

    counts = [await marker.mark(limit=1) for _ in range(3)]

    assert counts == [1, 1, 0]
    assert db.tables.deadlines[("ofcom-c-3", "d1")].status == "met"


async def test_a_deadline_due_today_is_not_missed_yet(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await case_with_deadline(cases, "ofcom-c-1", JAN5, NOW.date())
    clock.set(datetime.combine(NOW.date(), datetime.max.time(), tzinfo=NOW.tzinfo))

    assert await missed(db, cases, clock).mark(limit=10) == 0
    assert event_ids(db, "deadline_missed") == []


async def test_a_passed_window_is_closed_never_missed(
    cases: CaseService, db: MemoryDatabase, clock: FixedClock
) -> None:
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 9))
    window = DeadlineSet(
        occurred_on=JAN5,
        deadline_id="w1",
        kind="call_back_window",
        label="the company may ask for a call",
        due_on=date(2026, 1, 9),
        party="subject",
        obligation="window",
    )
    await post(cases, "ofcom-c-1", window)

    assert await missed(db, cases, clock).mark(limit=10) == 2

    assert event_ids(db, "deadline_missed") == [missed_event_id("ofcom-c-1", "d1", "2026-01-09")]
    assert event_ids(db, "deadline_closed") == [closed_event_id("ofcom-c-1", "w1", "2026-01-09")]
    assert db.tables.deadlines[("ofcom-c-1", "w1")].status == "closed"
    assert db.tables.deadlines[("ofcom-c-1", "d1")].status == "missed"
