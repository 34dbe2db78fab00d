"""CPU-bound passes over the database in forked worker processes (rebuilds).

``run_forked(engine, jobs, progress)`` forks one child per job. A child starts from a copy
of this process: it gives up the engine's inherited pool without touching its connections
(they are the parent's: ``dispose(close=False)``), runs its job on an event loop of its own
in a fresh thread (the forking thread's loop is the parent's), and leaves with
``os._exit``, so no inherited finalizer, atexit hook or buffered stream runs twice. Each
child counts its progress in shared memory, which the parent adds up for ``progress``;
a job's result (JSON) or its failure (the traceback) comes back over a pipe; on a failure
the parent ends the other children and raises ``ForkedJobFailed``.

POSIX only (``os.fork``): callers run the same jobs in-process where there is no fork.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import signal
import threading
import traceback
from collections.abc import Awaitable, Callable, Sequence
from multiprocessing.sharedctypes import RawArray
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["CAN_FORK", "ForkedJobFailed", "Job", "run_forked"]

CAN_FORK = hasattr(os, "fork")

#: A job: ``job(engine, report)``, where ``report(done)`` sets how far it has come; what
#: it returns must encode as JSON.
Job = Callable[[AsyncEngine, Callable[[int], None]], Awaitable[Any]]

#: How often the parent looks at its children (seconds).
POLL_SECONDS = 0.1
_MAX_ERROR = 8000


class ForkedJobFailed(RuntimeError):
    """A forked job raised (the message holds its traceback) or its process died."""


async def run_forked(
    engine: AsyncEngine,
    jobs: Sequence[Job],
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """Run every job in a child process of its own, all at once; returns what each job
    returned. ``progress(total)`` is called with the sum of their reports as they go."""
    counters: Any = RawArray("q", len(jobs))
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        for index, job in enumerate(jobs):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child (coverage does not follow forks)
                os.close(read)
                os._exit(_child(engine, job, counters, index, write))
            os.close(write)
            children.append((pid, read))
        running = dict(children)
        results: dict[int, Any] = {}
        while running:
            await asyncio.sleep(POLL_SECONDS)
            if progress is not None:
                progress(sum(counters))
            for pid in list(running):
                done, status = os.waitpid(pid, os.WNOHANG)  # noqa: ASYNC222 - never blocks
                if done == 0:
                    continue
                read = running.pop(pid)
                message = _drain(read)
                if os.waitstatus_to_exitcode(status) != 0 or not message.startswith("{"):
                    raise ForkedJobFailed(message or f"worker {pid} died ({status})")
                results[pid] = json.loads(message)["result"]
        if progress is not None:
            progress(sum(counters))
        return [results[pid] for pid, _ in children]
    finally:
        for pid, read in children:
            with contextlib.suppress(ChildProcessError, ProcessLookupError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:  # noqa: ASYNC222 - never blocks
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)  # noqa: ASYNC222 - a killed child is reaped at once
            with contextlib.suppress(OSError):
                os.close(read)


def _drain(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _child(  # pragma: no cover - runs in the forked child
    engine: AsyncEngine, job: Job, counters: Any, index: int, pipe: int
) -> int:
    """The child's whole life: returns its exit code (0 when the job succeeded)."""
    # Ctrl-C reaches the whole process group: the child just ends (the parent cleans up),
    # instead of running the parent's asyncio handler on the parent's loop.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.set_wakeup_fd(-1)
    # What was inherited stays put: never scanned by the collector (nor its pages copied).
    gc.freeze()
    failure: list[str] = []
    result: list[Any] = []
    kept: list[Any] = []

    def report(done: int) -> None:
        counters[index] = done

    async def main() -> None:
        # The inherited pool's connections belong to the parent: dropped unclosed, and
        # kept referenced until ``os._exit`` so that no finalizer of theirs runs here.
        kept.append(engine.sync_engine.pool)
        await engine.dispose(close=False)
        try:
            result.append(await job(engine, report))
        finally:
            await engine.dispose()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException:
            failure.append(traceback.format_exc()[-_MAX_ERROR:])

    thread = threading.Thread(target=run, name="forked-job")
    thread.start()
    thread.join()
    message = (failure[0] if failure else json.dumps({"result": result[0]})).encode()
    while message:  # small (a result, or a traceback cut to _MAX_ERROR): never blocks
        message = message[os.write(pipe, message) :]
    os.close(pipe)
    return 1 if failure else 0
