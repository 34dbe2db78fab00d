"""Event notifications on the in-memory adapters: the real fan-out (``notification_rows``)
fed by the real ``CaseService``'s appended envelopes, the real ``EventDelivery`` and
``MissedDeadlines``; the receiver is ``ScriptedSender``."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec
import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import MemoryCaseUnitOfWork, MemoryDatabase, MemoryOverdueSource
from casemgmt.adapters.memory.notifications import MemoryNotificationStore
from casemgmt.application.cases import CaseService
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.notifications import EventDelivery, event_webhook_id
from casemgmt.application.reminders.delivery import MissedDeadlines
from casemgmt.application.reminders.policy import (
    WORKER,
    NewSubscription,
    RetryPolicy,
    SendResult,
    Subscription,
    new_subscription,
)
from casemgmt.domain.events import DeadlineMet
from tests.support.worker import ADMIN, case_with_deadline, post
from tests.unit.application.conftest import NOW, regimes
from tests.unit.application.test_reminder_delivery import ScriptedSender

JAN5 = date(2026, 1, 5)
POLICY = RetryPolicy(max_attempts=3, base_seconds=2.0, max_seconds=60.0)
OK = SendResult(status_code=200)
DOWN = SendResult(status_code=503)


def subscription(
    sid: str, types: list[str] | None, regulators: list[str] | None = None
) -> Subscription:
    return Subscription(
        subscription_id=sid,
        url=f"https://hooks.example.org/{sid}",
        secret="whsec_test",
        regulators=regulators,
        kinds=None,
        event_types=types,
        description="",
        created_by="tests",
        created_at=NOW,
    )


@pytest.fixture
def store() -> MemoryNotificationStore:
    return MemoryNotificationStore()


@pytest.fixture
def cases(db: MemoryDatabase, clock: FixedClock, store: MemoryNotificationStore) -> CaseService:
    return CaseService(lambda: MemoryCaseUnitOfWork(db), regimes(), clock, on_appended=store.record)


def delivery(
    store: MemoryNotificationStore, sender: ScriptedSender, clock: FixedClock
) -> EventDelivery:
    return EventDelivery(store, sender, clock, POLICY, 30.0, start_grace_seconds=5.0)


def test_unknown_event_type_is_refused_naming_it() -> None:
    request = NewSubscription(
        url="https://hooks.example.org/x", event_types=["deadline_missed", "no_such_event"]
    )
    with pytest.raises(ValidationFailed) as caught:
        new_subscription(ADMIN, request, NOW)
    assert caught.value.field == "event_types"
    assert "no_such_event" in str(caught.value)
    assert "deadline_missed" not in str(caught.value)


def test_event_types_default_to_reminders_only_and_are_kept_sorted() -> None:
    plain = new_subscription(ADMIN, NewSubscription(url="https://hooks.example.org/x"), NOW)
    assert plain.event_types is None
    chosen = NewSubscription(
        url="https://hooks.example.org/x", event_types=["deadline_missed", "case_closed"]
    )
    assert new_subscription(ADMIN, chosen, NOW).event_types == ["case_closed", "deadline_missed"]


async def test_rows_only_for_listed_types_in_the_subscriptions_scope(
    cases: CaseService, store: MemoryNotificationStore
) -> None:
    store.subscriptions.update(
        {
            "s-all": subscription("s-all", ["deadline_set"]),
            "s-ico": subscription("s-ico", ["deadline_set"], regulators=["ico"]),
            "s-plain": subscription("s-plain", None),
            "s-other": subscription("s-other", ["case_closed"]),
        }
    )
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 21))  # ofcom
    assert [(k[1], r.event_type) for k, r in store.rows.items()] == [("s-all", "deadline_set")]
    [row] = store.rows.values()
    body = msgspec.json.decode(row.payload)
    assert body["case"] == {"case_id": "ofcom-c-1", "regulator": "ofcom"}
    assert body["event"]["type"] == "deadline_set"
    assert body["event"]["data"]["deadline_id"] == "d1"
    assert body["event"]["version"] == 2


async def test_each_case_is_delivered_in_feed_order_and_once(
    cases: CaseService, store: MemoryNotificationStore, clock: FixedClock
) -> None:
    store.subscriptions["s-1"] = subscription(
        "s-1", ["case_opened", "deadline_set", "deadline_met"]
    )
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 21))
    await case_with_deadline(cases, "ofcom-c-2", JAN5, date(2026, 1, 21))
    await post(cases, "ofcom-c-1", DeadlineMet(occurred_on=date(2026, 1, 19), deadline_id="d1"))
    sender = ScriptedSender(*[OK] * 10)
    work = delivery(store, sender, clock)
    rounds = []
    while claims := store.claim(clock.now(), 10, 5.0):
        rounds.append(
            sorted((store.rows[c[:2]].case_id, store.rows[c[:2]].version) for c in claims)
        )
        outcomes = await work.deliver_many(claims, "run")
        assert {o.status for o in outcomes} == {"delivered"}
    # one event per case per round: a case's next event waits for the one before
    assert rounds == [
        [("ofcom-c-1", 1), ("ofcom-c-2", 1)],
        [("ofcom-c-1", 2), ("ofcom-c-2", 2)],
        [("ofcom-c-1", 3)],
    ]
    sent = [
        (b["data"]["case"]["case_id"], b["data"]["event"]["version"]) for _, _, b in sender.sent
    ]
    assert [v for c, v in sent if c == "ofcom-c-1"] == [1, 2, 3]
    assert len(sent) == len(set(sent)) == 5
    assert all(b["type"] == "case.event" for _, _, b in sender.sent)
    # a replayed append (same event) records nothing new
    assert store.record([]) == 0


async def test_retry_keeps_the_webhook_id_and_holds_the_case_dead_letter_does_not(
    cases: CaseService, store: MemoryNotificationStore, clock: FixedClock
) -> None:
    store.subscriptions["s-1"] = subscription("s-1", ["case_opened", "deadline_set"])
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 21))
    sender = ScriptedSender(DOWN, DOWN, DOWN, OK)
    work = delivery(store, sender, clock)
    [claim] = store.claim(clock.now(), 10, 5.0)
    [first] = await work.deliver_many([claim], "run-1")
    assert first.status == "retry"
    assert store.claim(clock.now(), 10, 5.0) == []  # leased, and the next event waits
    token = first.claim_token or ""
    statuses = []
    for n in (2, 3):
        clock.advance(timedelta(minutes=10))
        [outcome] = await work.deliver_many([(claim[0], claim[1], token)], f"run-{n}")
        statuses.append(outcome.status)
        token = outcome.claim_token or token
    assert statuses == ["retry", "dead"]
    opened = store.rows[claim[:2]]
    assert (opened.status, opened.attempts) == ("dead", 3)
    [next_claim] = store.claim(clock.now(), 10, 5.0)
    assert store.rows[next_claim[:2]].event_type == "deadline_set"
    [done] = await work.deliver_many([next_claim], "run-4")
    assert done.status == "delivered"
    ids = [m for _, m, _ in sender.sent]
    assert ids[:3] == [event_webhook_id(claim[0], "s-1")] * 3
    assert ids[3] == event_webhook_id(next_claim[0], "s-1")
    assert [a.outcome for e, _, a in store.log if e == claim[0]] == ["retry", "retry", "dead"]


async def test_the_workers_deadline_missed_is_delivered_like_any_other_event(
    cases: CaseService, db: MemoryDatabase, store: MemoryNotificationStore, clock: FixedClock
) -> None:
    store.subscriptions["s-1"] = subscription("s-1", ["deadline_missed"])
    await case_with_deadline(cases, "ofcom-c-1", JAN5, date(2026, 1, 15))
    assert store.rows == {}
    marked = await MissedDeadlines(MemoryOverdueSource(db), cases, clock).mark(10)
    assert marked == 1
    sender = ScriptedSender(OK)
    [claim] = store.claim(clock.now(), 10, 5.0)
    [outcome] = await delivery(store, sender, clock).deliver_many([claim], "run")
    assert outcome.status == "delivered"
    [(_, _, body)] = sender.sent
    assert body["event_type"] == "deadline_missed"
    assert body["data"]["event"]["actor"] == WORKER.actor
    assert body["data"]["event"]["data"]["deadline_id"] == "d1"
