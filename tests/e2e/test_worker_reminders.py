"""Real Celery workers (``casemgmt worker --beat``, prefork) against the embedded SQLite
broker and against Redis, delivering to a real receiver on 127.0.0.1 that verifies every
signature. Time is the workers' file clock (``CASEMGMT_CLOCK_FILE``): tests move it and
poll for the work to finish; nothing sleeps for time to pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from casemgmt.bootstrap import Container
from tests.conftest import PG_URL, REDIS_URL
from tests.support.receiver import receiver
from tests.support.worker import Stack, case_with_deadline, wait_until, worker

# (database backend, broker): the embedded default always; production-like when set up.
COMBOS = [("sqlite", "sqla")]
if PG_URL:
    COMBOS.append(("postgres", "redis" if REDIS_URL else "sqla"))
if REDIS_URL and not PG_URL:
    COMBOS.append(("sqlite", "redis"))

pytestmark = pytest.mark.parametrize(
    ("backend", "broker"), COMBOS, ids=["-".join(c) for c in COMBOS]
)

SET_ON = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)  # Monday, when the deadlines are set
DUE = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)  # the -5wd reminders of 27 October are due


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


def deadlines(stack: Stack, kind: str, n: int, due_on: date = date(2026, 10, 27)) -> None:
    """``n`` cases (``ofcom-<kind>-<i>``) with one ``kind`` deadline each, set at ``SET_ON``."""

    async def work(c: Container) -> None:
        for i in range(n):
            await case_with_deadline(c.cases, f"ofcom-{kind}-{i}", SET_ON.date(), due_on, kind=kind)

    stack.set_clock(SET_ON)
    stack.run(work)


def test_two_workers_with_two_beats_deliver_each_reminder_once_per_subscription(
    stack: Stack, tmp_path: Path
) -> None:
    stack.subscribe("race")
    stack.subscribe("race-b", kind="race")
    deadlines(stack, "race", 12)
    stack.set_clock(DUE)
    prefork = worker(stack.env(), tmp_path, name="w1", pool="prefork", concurrency=2)
    with prefork, worker(stack.env(), tmp_path, name="w2"):
        wait_until(lambda: stack.count("reminder_sent", "race") == 24, what="24 reminders sent")
    seen = stack.hooks.seen()
    assert all(r.verified for r in seen)
    assert stack.hooks.duplicates() == 0
    assert len(seen) == 24


def test_failures_then_success_record_one_sent_and_always_500_ends_failed(
    stack: Stack, tmp_path: Path
) -> None:
    stack.subscribe("flaky", fail=2)
    stack.subscribe("down", always_fail=True)
    deadlines(stack, "flaky", 1)
    deadlines(stack, "down", 1)
    stack.set_clock(DUE)
    with worker(stack.env(), tmp_path):
        wait_until(lambda: stack.count("reminder_sent", "flaky") == 1, what="flaky delivered")
        wait_until(lambda: stack.count("reminder_failed", "down") == 1, what="down dead-lettered")
        assert [r.answered for r in stack.hooks.seen("flaky")] == [500, 500, 200]
        assert [r.answered for r in stack.hooks.seen("down")] == [500, 500, 500]
        assert len({r.webhook_id for r in stack.hooks.seen("flaky")}) == 1
        assert stack.count("reminder_sent", "flaky") == 1
        assert stack.count("reminder_failed", "down") == 1
        # Past the due day, the worker's beat marks both deadlines missed, once each.
        stack.set_clock(datetime(2026, 10, 28, 0, 30, tzinfo=UTC))
        wait_until(lambda: stack.count("deadline_missed") == 2, what="deadlines missed")


def test_kill_9_mid_batch_loses_no_reminder_and_records_none_twice(
    stack: Stack, tmp_path: Path
) -> None:
    stack.subscribe("batch", hold_after=3)
    deadlines(stack, "batch", 10)
    stack.set_clock(DUE)
    with worker(stack.env(), tmp_path, name="doomed") as doomed:
        # Three delivered, then the receiver holds the next requests: the batch is in flight.
        wait_until(lambda: len(stack.hooks.seen("batch")) >= 3, what="first deliveries")
        wait_until(lambda: stack.hooks.routes["batch"].served >= 5, what="requests in flight")
        doomed.kill9()
    before = stack.count("reminder_sent", "batch")
    assert before < 10
    stack.hooks.routes["batch"].hold_after = None
    stack.hooks.released.set()
    # The dead worker's claims are leased for 60 s of the workers' clock: move past them.
    stack.set_clock(DUE + timedelta(seconds=61))
    with worker(stack.env(), tmp_path, name="heir"):
        wait_until(lambda: stack.count("reminder_sent", "batch") == 10, what="all ten sent")
    seen = stack.hooks.seen("batch")
    assert all(r.verified for r in seen)
    assert len({r.webhook_id for r in seen if r.answered == 200}) == 10
    assert stack.count("reminder_sent", "batch") == 10


def test_a_deadline_across_the_clock_change_fires_at_the_right_utc_instant(
    stack: Stack, tmp_path: Path
) -> None:
    """Due Monday 26 Oct 2026, the day after BST ends: the on-the-day reminder goes at
    09:00 London = 09:00 UTC (in summer it would be 08:00 UTC). A Brussels deadline due the
    same day fires at 09:00 CET = 08:00 UTC and proves that a scan ran in between."""
    stack.subscribe("dst")

    async def work(c: Container) -> None:
        on = date(2026, 10, 23)
        await case_with_deadline(c.cases, "ofcom-dst-london", on, date(2026, 10, 26), kind="dst")
        await case_with_deadline(
            c.cases,
            "eu-commission-dst-brussels",
            on,
            date(2026, 10, 26),
            kind="dst",
            regulator="eu-commission",
            regime="dsa",
        )

    stack.set_clock(datetime(2026, 10, 23, 12, 0, tzinfo=UTC))  # after both -1wd reminders
    stack.run(work)
    with worker(stack.env(), tmp_path):
        stack.set_clock(datetime(2026, 10, 26, 8, 30, tzinfo=UTC))
        wait_until(lambda: len(stack.hooks.seen("dst")) == 1, what="the Brussels reminder")
        stack.set_clock(datetime(2026, 10, 26, 9, 0, tzinfo=UTC))
        wait_until(lambda: len(stack.hooks.seen("dst")) == 2, what="the London reminder")
    bodies = [r.body["data"] for r in stack.hooks.seen("dst") if r.body]
    assert [(b["case"]["case_id"], b["reminder"]["send_at"]) for b in bodies] == [
        ("eu-commission-dst-brussels", "2026-10-26T08:00:00Z"),
        ("ofcom-dst-london", "2026-10-26T09:00:00Z"),
    ]
