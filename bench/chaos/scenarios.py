"""The experiments of a chaos run. Each injects its faults while the load runs and returns
one row of the table; each ends by itself (every wait has a timeout).

A row: ``experiment``, ``faults``, ``acknowledged`` (201s during it), ``5xx_outside``
(5xx or dropped connections outside the fault's window), ``non_503_inside`` (inside the
window, anything but 503 or a dropped connection of a killed process), ``503_inside``,
``recovery_s`` (fault over -> first acknowledged write, or the last reminder delivered).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tests.support.private_pg import PrivatePostgres
from tests.support.worker import Stack, WorkerProcess, case_with_deadline

from bench.chaos.infra import Api, Load, PrivateRedis, kill9, wait_for
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.adapters.sql.reminders.tables import deliveries
from casemgmt.application.reminders.policy import webhook_id
from casemgmt.bootstrap import Container
from casemgmt.settings import ReminderSettings

CLI = str(Path(sys.executable).parent / "casemgmt")
#: The chaos worker: prefork with two child processes, default max unrecorded.
WORKER_PROCESSES = 2
MAX_UNRECORDED = ReminderSettings().max_unrecorded


@dataclass
class World:
    """Everything a run started; scenarios inject faults into it."""

    pg: PrivatePostgres
    redis: PrivateRedis
    api: Api
    load: Load
    stack: Stack
    start_worker: Callable[[], WorkerProcess]
    worker: WorkerProcess
    seconds: float
    log_dir: Path
    windows: list[tuple[float, float]] = field(default_factory=list)


def _row(world: World, name: str, faults: str, since: int, started: float,
         window: tuple[float, float] | None, recovery: float | None) -> dict[str, Any]:  # fmt: skip
    with world.load.lock:
        responses = world.load.responses[since:]
    inside = [s for t, s in responses if window and window[0] <= t <= window[1]]
    outside = [s for t, s in responses if not (window and window[0] <= t <= window[1])]
    return {
        "experiment": name,
        "faults": faults,
        "acknowledged": sum(s == 201 for _, s in responses),
        "5xx_outside": sum(s >= 500 or s == 0 for s in outside),
        "non_503_inside": sum(s >= 500 and s != 503 for s in inside),
        "503_inside": sum(s == 503 for s in inside),
        "recovery_s": None if recovery is None else round(recovery, 2),
        "seconds": round(time.monotonic() - started, 1),
    }


def _first_ack_after(world: World, since: int, at: float, timeout: float = 60) -> float:
    def acked() -> bool:
        with world.load.lock:
            return any(t >= at and s == 201 for t, s in world.load.responses[since:])

    wait_for(acked, timeout, "an acknowledged write after the fault")
    with world.load.lock:
        return min(t for t, s in world.load.responses[since:] if t >= at and s == 201) - at


def baseline(world: World) -> dict[str, Any]:
    since, started = len(world.load.responses), time.monotonic()
    time.sleep(world.seconds)
    return _row(world, "baseline", "none", since, started, None, None)


def api_kill9(world: World) -> dict[str, Any]:
    since, started = len(world.load.responses), time.monotonic()
    time.sleep(world.seconds / 3)
    victims = world.api.workers()[:1]
    at = time.monotonic()
    for pid in victims:
        kill9(pid)
    time.sleep(world.seconds)
    recovery = _first_ack_after(world, since, at)
    window = (at, at + 10)  # in-flight requests of the killed worker drop
    return _row(world, "api-kill9", f"kill -9 API worker {victims}", since, started, window,
                recovery)  # fmt: skip


def _pg_outage(world: World, name: str, fault: Callable[[], None]) -> dict[str, Any]:
    since, started = len(world.load.responses), time.monotonic()
    time.sleep(world.seconds / 3)
    down = time.monotonic()
    fault()
    time.sleep(5)
    world.pg.start()
    up = time.monotonic()
    recovery = _first_ack_after(world, since, up)
    time.sleep(world.seconds / 2)
    return _row(world, name, "PostgreSQL down 5 s", since, started, (down, up + 2), recovery)


def pg_stop_start(world: World) -> dict[str, Any]:
    return _pg_outage(world, "pg-stop-start", world.pg.stop)


def pg_kill9(world: World) -> dict[str, Any]:
    return _pg_outage(world, "pg-kill9", world.pg.kill9)


def rebuild_under_load(world: World) -> dict[str, Any]:
    since, started = len(world.load.responses), time.monotonic()
    time.sleep(world.seconds / 3)
    env = {**os.environ, "CASEMGMT_DATABASE_URL": world.api.database_url,
           "CASEMGMT_LOG_LEVEL": "WARNING"}  # fmt: skip
    result = subprocess.run([CLI, "projections", "rebuild", "cases"], env=env,
                            capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    time.sleep(world.seconds / 3)
    row = _row(world, "rebuild-under-load", "projections rebuild", since, started, None, None)
    row["rebuild_ok"] = result.returncode == 0
    return row


# -- reminders ---------------------------------------------------------------------------

#: Week ``i`` of the reminder experiments: deadlines set on Monday 12 Oct 2026 + i weeks,
#: due 15 days later; their -5wd reminder is due on the Tuesday before, at 09:00 local.
BASE_SET_ON = date(2026, 10, 12)
REMINDER_CASES, DEADLINES = 40, 5


def _schedule(world: World, kind: str, week: int) -> datetime:
    set_on = BASE_SET_ON + timedelta(weeks=week)
    due_on = set_on + timedelta(days=15)
    world.stack.set_clock(datetime.combine(set_on, datetime.min.time(), UTC) + timedelta(hours=8))
    world.stack.subscribe(kind, **({} if kind != "faulty" else {"fail": 60, "delay": 0.05}))

    async def work(c: Container) -> None:
        for i in range(REMINDER_CASES):
            for j in range(DEADLINES):
                if j == 0:
                    await case_with_deadline(
                        c.cases, f"ofcom-{kind}-{i}", set_on, due_on, kind=kind
                    )
                    continue
                await _deadline(c, f"ofcom-{kind}-{i}", set_on, due_on, kind, f"d{j + 1}")

    world.stack.run(work)
    return datetime.combine(due_on - timedelta(days=7), datetime.min.time(), UTC) + timedelta(
        hours=12
    )


async def _deadline(c: Container, case_id: str, on: date, due: date, kind: str, did: str) -> None:
    from tests.support.worker import post

    from casemgmt.domain.events import DeadlineSet

    event = DeadlineSet(occurred_on=on, deadline_id=did, kind=kind, label="respond", due_on=due,
                        party="subject", obligation="duty")  # fmt: skip
    await post(c.cases, case_id, event)


def _pending(world: World, kind: str) -> tuple[int, int]:
    async def work(c: Container) -> tuple[int, int]:
        d = deliveries
        mine = d.c.case_id.like(f"ofcom-{kind}-%")
        async with c.engine.connect() as conn:
            total = await conn.scalar(sa.select(sa.func.count()).select_from(d).where(mine))
            pending = await conn.scalar(
                sa.select(sa.func.count()).select_from(d).where(mine, d.c.status == "pending")
            )
        return int(total or 0), int(pending or 0)

    return world.stack.run(work)


def _delivered_all(world: World, kind: str) -> bool:
    total, pending = _pending(world, kind)
    return total >= REMINDER_CASES * DEADLINES and pending == 0


#: The bar of issue 12: no reminder stranded longer than the scan interval plus a minute
#: after a broker or a worker returns (the chaos worker scans every 2 s).
STRANDED_BOUND_S = 2 + 60


@dataclass
class AtKill:
    """What the receiver had been sent and what was recorded when a worker was killed."""

    arrived: set[str]
    recorded: set[str]
    processes: int
    max_unrecorded: int

    @property
    def in_flight(self) -> set[str]:
        """Sent (or being sent) and not recorded: all a kill may make the worker re-send."""
        return self.arrived - self.recorded


def _reminder_row(world: World, name: str, faults: str, kind: str, started: float,
                  recovered_from: float | None,
                  kill: AtKill | None = None) -> dict[str, Any]:  # fmt: skip
    """One row of the reminder table: ``lost`` (reminders never processed by the receiver,
    which de-duplicates by ``webhook-id``), ``recorded_twice`` (``reminder_sent`` events of
    one delivery beyond the first), ``re_sent`` (copies of an already processed id:
    at-least-once delivery), ``processed_twice`` (a reminder processed under two ids: what
    de-duplication cannot catch), ``re_sent_outside`` (re-sends of a delivery that was not
    in flight at the kill) and ``re_sent_bound`` (killed processes x max unrecorded)."""
    hooks = world.stack.hooks
    reminders = REMINDER_CASES * DEADLINES
    re_sent = _re_sent_ids(hooks.seen(kind))
    sent = _sent_records(world, kind)
    return {
        "experiment": name,
        "faults": faults,
        "reminders": reminders,
        "delivered": len(hooks.processed_reminders(kind)),
        "lost": reminders - len(hooks.processed_reminders(kind)),
        "recorded": len(set(sent)),
        "recorded_twice": len(sent) - len(set(sent)),
        "re_sent": len(re_sent),
        "processed_twice": hooks.processed_twice(kind),
        "re_sent_bound": 0 if kill is None else kill.processes * kill.max_unrecorded,
        "in_flight_at_kill": None if kill is None else len(kill.in_flight),
        "re_sent_outside": len(re_sent - (kill.in_flight if kill else set())),
        "recovery_s": None
        if recovered_from is None
        else round(time.monotonic() - recovered_from, 2),
        "stranded_bound_s": STRANDED_BOUND_S,
        "seconds": round(time.monotonic() - started, 1),
    }


def _re_sent_ids(seen: list[Any]) -> set[str]:
    ok = Counter(r.webhook_id for r in seen if 200 <= r.answered < 300)
    return {i for i, n in ok.items() if n > 1}


def _sent_records(world: World, kind: str) -> list[str]:
    """The ``webhook-id`` of each ``reminder_sent`` event on ``kind``'s cases (a delivery
    recorded twice appears twice)."""

    async def work(c: Container) -> list[str]:
        query = sa.select(events.c.data).where(
            events.c.type == "reminder_sent", events.c.case_id.like(f"ofcom-{kind}-%")
        )
        async with c.engine.connect() as conn:
            rows = (await conn.execute(query)).scalars().all()
        found = []
        for raw in rows:
            data = json.loads(raw) if isinstance(raw, str | bytes) else raw
            found.append(webhook_id(data["reminder_id"], data["subscription_id"]))
        return found

    return world.stack.run(work)


@contextmanager
def _ticking(world: World, start: datetime) -> Iterator[None]:
    """The worker's file clock runs from ``start`` in real time while the block runs."""
    stop = threading.Event()
    origin = time.monotonic()

    def tick() -> None:
        while not stop.is_set():
            world.stack.set_clock(start + timedelta(seconds=time.monotonic() - origin))
            stop.wait(0.5)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _first_received(world: World, kind: str) -> None:
    wait_for(lambda: len(world.stack.hooks.seen(kind)) > 0, 120, f"the first {kind} webhook")


def redis_kill(world: World) -> dict[str, Any]:
    started = time.monotonic()
    with _ticking(world, _schedule(world, "broker", 0)):
        _first_received(world, "broker")
        world.redis.kill9()  # no persistence: every queued task is gone
        time.sleep(3)
        world.redis.start()
        back = time.monotonic()
        wait_for(lambda: _delivered_all(world, "broker"), 300, "every broker reminder")
    return _reminder_row(world, "redis-kill", "kill -9 Redis mid-delivery, 3 s", "broker",
                         started, back)  # fmt: skip


def celery_kill9(world: World) -> dict[str, Any]:
    started = time.monotonic()
    with _ticking(world, _schedule(world, "worker", 1)):
        _first_received(world, "worker")
        world.worker.kill9()
        kill = AtKill(world.stack.hooks.arrived_ids("worker"), set(_sent_records(world, "worker")),
                      WORKER_PROCESSES, MAX_UNRECORDED)  # fmt: skip
        world.worker = world.start_worker()
        back = time.monotonic()
        wait_for(lambda: _delivered_all(world, "worker"), 300, "every worker reminder")
    return _reminder_row(world, "celery-kill9", "kill -9 worker + beat mid-delivery", "worker",
                         started, back, kill)  # fmt: skip


def receiver_faults(world: World) -> dict[str, Any]:
    started = time.monotonic()
    with _ticking(world, _schedule(world, "faulty", 2)):
        wait_for(lambda: _delivered_all(world, "faulty"), 300, "every faulty-receiver reminder")
    return _reminder_row(world, "receiver-500s-slow", "first 60 answers 500, 50 ms each",
                         "faulty", started, None)  # fmt: skip


WRITE_SCENARIOS = [baseline, api_kill9, pg_stop_start, pg_kill9, rebuild_under_load]
REMINDER_SCENARIOS = [redis_kill, celery_kill9, receiver_faults]


def run_safely(scenario: Callable[[World], dict[str, Any]], world: World) -> dict[str, Any]:
    """A scenario's row, or a row naming the error that ended it (the run goes on)."""
    try:
        return scenario(world)
    except Exception as exc:
        return {"experiment": scenario.__name__, "error": f"{type(exc).__name__}: {exc}"}


def settle(seconds: float) -> None:
    asyncio.run(asyncio.sleep(seconds))
