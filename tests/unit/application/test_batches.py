"""``run_batch``: outcomes recorded while the rest of the batch is in flight, at most
``window`` sends unrecorded, held claims renewed until recorded, failures contained.

Sends and recordings are scripted with events, so every step is observed, not timed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from casemgmt.application.reminders.batches import Batch, run_batch


class Script:
    """Jobs ``0..n-1``; each send waits until the test answers it; recordings and renewals
    are logged (a recording may be held until the test lets it go)."""

    def __init__(self, n: int) -> None:
        self.answers = {i: asyncio.Event() for i in range(n)}
        self.started: list[int] = []
        self.finished: list[int] = []
        self.entered = 0
        self.recorded: list[list[str]] = []
        self.renewed: list[list[int]] = []
        self.recording_allowed = asyncio.Event()
        self.recording_allowed.set()
        self.fail_recording = False

    async def send(self, job: int) -> str:
        self.started.append(job)
        await self.answers[job].wait()
        self.finished.append(job)
        return f"sent-{job}"

    async def record(self, group: list[str]) -> None:
        self.entered += 1
        await self.recording_allowed.wait()
        if self.fail_recording:
            raise ConnectionError("database gone")
        self.recorded.append(group)

    async def renew(self, keys: list[int]) -> None:
        self.renewed.append(keys)

    def batch(self, first: tuple[str, ...] = ()) -> Batch[int, str, int]:
        return Batch(
            jobs=list(self.answers),
            send=self.send,
            job_key=lambda job: job,
            settled_key=lambda s: int(s.split("-")[1]) if s.startswith("sent-") else -1,
            record=self.record,
            renew=self.renew,
            first=first,
        )

    def recorded_jobs(self) -> list[str]:
        return [s for group in self.recorded for s in group]


async def until(check: Callable[[], bool]) -> None:
    """Let the loop run until ``check`` holds (the work it waits for is done at once)."""
    for _ in range(5000):
        if check():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("never happened")


async def test_a_finished_send_is_recorded_while_the_rest_are_still_in_flight() -> None:
    script = Script(5)
    run = asyncio.create_task(run_batch(script.batch(("cancelled-x",)), asyncio.Semaphore(8), 60))
    await until(lambda: len(script.started) == 5)
    script.answers[0].set()
    script.answers[1].set()
    await until(lambda: len(script.recorded_jobs()) == 3)
    assert sorted(script.recorded_jobs()) == ["cancelled-x", "sent-0", "sent-1"]
    assert not run.done()  # jobs 2..4 are still in flight
    for i in (2, 3, 4):
        script.answers[i].set()
    await run
    assert sorted(script.recorded_jobs()) == ["cancelled-x"] + [f"sent-{i}" for i in range(5)]


async def test_what_settles_during_a_recording_is_recorded_next_in_one_group() -> None:
    script = Script(4)
    run = asyncio.create_task(run_batch(script.batch(), asyncio.Semaphore(8), 60))
    await until(lambda: len(script.started) == 4)
    script.recording_allowed.clear()  # the first recording is slow
    script.answers[0].set()
    await until(lambda: script.entered == 1)  # recording sent-0
    for i in (1, 2, 3):
        script.answers[i].set()
    await until(lambda: len(script.finished) == 4)
    script.recording_allowed.set()
    await run
    assert script.recorded == [["sent-0"], ["sent-1", "sent-2", "sent-3"]]


async def test_no_more_than_the_window_of_sends_are_ever_unrecorded() -> None:
    script = Script(10)
    window = asyncio.Semaphore(3)
    script.recording_allowed.clear()  # nothing can be recorded yet
    for answer in script.answers.values():
        answer.set()  # every send would finish at once
    run = asyncio.create_task(run_batch(script.batch(), window, 60))
    await until(lambda: len(script.started) == 3)
    for _ in range(50):
        await asyncio.sleep(0)  # give every other send every chance to start
    assert len(script.started) == 3
    script.recording_allowed.set()
    await run
    assert sorted(script.recorded_jobs()) == sorted(f"sent-{i}" for i in range(10))
    assert window._value == 3  # every slot given back


async def test_held_claims_are_renewed_until_recorded_and_never_after() -> None:
    script = Script(3)
    run = asyncio.create_task(run_batch(script.batch(), asyncio.Semaphore(8), 0.01))
    await until(lambda: len(script.renewed) >= 1)
    assert script.renewed[0] == [0, 1, 2]
    script.answers[1].set()
    await until(lambda: "sent-1" in script.recorded_jobs())
    renewals = len(script.renewed)
    await until(lambda: len(script.renewed) > renewals)
    assert script.renewed[-1] == [0, 2]  # the recorded one is no longer renewed
    script.answers[0].set()
    script.answers[2].set()
    await run


async def test_a_failed_recording_cancels_the_waiting_sends_and_raises() -> None:
    script = Script(4)
    window = asyncio.Semaphore(8)
    run = asyncio.create_task(run_batch(script.batch(), window, 60))
    await until(lambda: len(script.started) == 4)
    script.fail_recording = True
    script.answers[0].set()
    with pytest.raises(ConnectionError):
        await run
    assert script.recorded == []
    assert window._value == 8  # in-flight sends were cancelled and gave their slots back


async def test_a_renewal_that_fails_does_not_stop_the_batch() -> None:
    script = Script(1)
    calls = 0

    async def flaky(keys: list[int]) -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("blip")

    batch = script.batch()
    batch.renew = flaky
    run = asyncio.create_task(run_batch(batch, asyncio.Semaphore(8), 0.01))
    await until(lambda: calls >= 2)
    script.answers[0].set()
    await run
    assert script.recorded == [["sent-0"]]
