"""Running a batch of webhook deliveries: outcomes recorded as they come, claims kept alive.

``run_batch`` sends a batch's jobs concurrently and, in one loop beside them:

- **records while the rest is in flight** (group commit): whatever settled since the last
  recording started is recorded next, in one call, so a send that finished is durable
  after about one recording's time instead of at the end of the batch. A kill -9 then
  re-sends only what was truly unrecorded: at most ``window`` sends of the process (a
  send takes a window slot before it starts and gives it back once its outcome is
  recorded; the slots are shared by the process's batches). Such a re-send carries the
  same ``webhook-id`` (at-least-once delivery, receivers de-duplicate by it) and is
  never recorded twice (derived event ids, claim tokens).
- **renews the claims it still holds** (heartbeat): every ``heartbeat`` seconds, the
  deliveries taken and not yet recorded get their lease extended. A task whose process
  died stops renewing, so its claims run out one lease after its last heartbeat and a
  scan publishes them again, however long the batch would have taken. Renewal and
  recording take turns in the same loop, so a recorded delivery (a retry keeps its
  claim token with its own lease) is never renewed afterwards.

If recording fails the sends still waiting are cancelled and the error is raised: their
claims run out and a scan publishes them again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from casemgmt.observability import get_logger

__all__ = ["Batch", "run_batch"]

J = TypeVar("J")
S = TypeVar("S")
K = TypeVar("K", bound=Hashable)
_log = get_logger("casemgmt.reminders")


@dataclass
class Batch(Generic[J, S, K]):
    """One batch: its jobs and how to send, key, record and renew them.

    ``send`` attempts one job and returns its settled outcome; ``record`` records settled
    outcomes (one unit of work); ``renew`` extends the lease of the given held keys;
    ``first``: outcomes settled without a send (already sent, cancelled), recorded first.
    """

    jobs: Sequence[J]
    send: Callable[[J], Awaitable[S]]
    job_key: Callable[[J], K]
    settled_key: Callable[[S], K]
    record: Callable[[list[S]], Awaitable[None]]
    renew: Callable[[list[K]], Awaitable[object]]
    first: Sequence[S] = ()


@dataclass
class _Loop(Generic[J, S, K]):
    batch: Batch[J, S, K]
    window: asyncio.Semaphore
    heartbeat: float
    held: set[K]
    waiting: list[tuple[S, bool]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def add(self, settled: S, slot: bool) -> None:
        self.waiting.append((settled, slot))
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        beat = loop.time() + self.heartbeat
        while self.waiting or not self.closed:
            if not self.waiting and not self.closed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), max(0.0, beat - loop.time()))
            self.wake.clear()
            if self.waiting:
                await self._record()
            if loop.time() >= beat:
                await self._renew()
                beat = loop.time() + self.heartbeat

    def drop(self) -> None:
        """Give back the slots of outcomes left unrecorded (the recorder failed)."""
        self._release([slot for _, slot in self.waiting])
        self.waiting = []

    async def _record(self) -> None:
        group, self.waiting = self.waiting, []
        try:
            await self.batch.record([settled for settled, _ in group])
        finally:
            self._release([slot for _, slot in group])
        self.held.difference_update(self.batch.settled_key(s) for s, _ in group)

    async def _renew(self) -> None:
        if not self.held:
            return
        try:
            await self.batch.renew(sorted(self.held, key=repr))
        except Exception as exc:  # a blip: the lease has two more beats to go
            _log.warning("claims not renewed", count=len(self.held), error=repr(exc))

    def _release(self, slots: list[bool]) -> None:
        for slot in slots:
            if slot:
                self.window.release()


async def run_batch(batch: Batch[J, S, K], window: asyncio.Semaphore, heartbeat: float) -> None:
    """Send ``batch``'s jobs, recording and renewing as described in the module docstring;
    returns once every outcome is recorded."""
    loop = _Loop(batch, window, heartbeat, {batch.job_key(j) for j in batch.jobs})
    for settled in batch.first:
        loop.add(settled, slot=False)

    async def one(job: J) -> None:
        await window.acquire()
        try:
            settled = await batch.send(job)
        except BaseException:
            window.release()
            raise
        loop.add(settled, slot=True)

    recorder = asyncio.create_task(loop.run())
    sends = [asyncio.create_task(one(job)) for job in batch.jobs]
    try:
        failed = await _wait_sends(sends, recorder)
    finally:
        for task in sends:
            task.cancel()
        await asyncio.gather(*sends, return_exceptions=True)
        loop.close()
        if not recorder.done():
            await asyncio.wait([recorder])
        loop.drop()
    recorder.result()  # a recording error, if any
    if failed is not None:
        raise failed


async def _wait_sends(
    sends: list[asyncio.Task[None]], recorder: asyncio.Task[None]
) -> BaseException | None:
    """Wait for every send, unless the recorder stops first (it failed); the first error
    of a send (a bug: senders answer network errors with a result), if any."""
    pending: set[asyncio.Task[None]] = set(sends)
    while pending:
        done, pending = await asyncio.wait(
            {*pending, recorder}, return_when=asyncio.FIRST_COMPLETED
        )
        if recorder in done:
            return None
        pending.discard(recorder)
    for task in sends:
        if task.exception() is not None:
            return task.exception()
    return None
