"""The worker runner: one event loop, one engine, one HTTP client per worker process.

Celery runs tasks as plain functions; each task hands a coroutine to ``WorkerRunner.run``,
which runs it on the process's own event loop (on a thread the runner owns). Everything
async (the container with its pooled engine, the ``httpx.AsyncClient``) is built on that
loop the first time a process runs a task, and never crosses to another loop or process:
a forked child that inherits a runner from its parent discards it and builds its own.
With Celery's ``threads`` pool many tasks of one process share the loop; with ``prefork``
each child process has its own. The pool is ``CASEMGMT_WORKER_POOL``: ``prefork`` by
default.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from casemgmt.bootstrap import WorkerServices, build_worker
from casemgmt.settings import Settings

__all__ = ["WorkerRunner"]

T = TypeVar("T")


class WorkerRunner:
    """Runs task coroutines on this process's own loop (see the module docstring).

    The loop runs on a thread the runner starts; ``run`` may be called from any number of
    threads at once (Celery's ``threads`` pool), each blocking until its coroutine is done,
    so one process keeps many deliveries in flight on one engine and one HTTP client.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._services: WorkerServices | None = None

    @property
    def settings(self) -> Settings:
        return self._settings

    def run(self, work: Callable[[WorkerServices], Awaitable[T]]) -> T:
        loop, services = self._ensure()
        return asyncio.run_coroutine_threadsafe(_call(work, services), loop).result()

    def forget_inherited(self) -> None:
        """After a fork: drop (without closing) what belongs to the parent process."""
        if self._pid is not None and self._pid != os.getpid():
            # Only a forked child gets here, before it runs any task: no thread holds the
            # lock, and the parent's loop thread does not exist in this process.
            self._pid, self._loop, self._thread, self._services = None, None, None, None
            self._lock = threading.Lock()

    def close(self) -> None:
        """Close the client, dispose of the engine, stop the loop (this process's only)."""
        with self._lock:
            loop, thread, services = self._loop, self._thread, self._services
            if loop is None or thread is None or self._pid != os.getpid():
                return
            try:
                if services is not None:
                    asyncio.run_coroutine_threadsafe(services.aclose(), loop).result(30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=30)
                loop.close()
                self._pid, self._loop, self._thread, self._services = None, None, None, None

    def _ensure(self) -> tuple[asyncio.AbstractEventLoop, WorkerServices]:
        self.forget_inherited()
        with self._lock:
            if self._loop is None or self._services is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="casemgmt-worker-loop", daemon=True
                )
                thread.start()
                future = asyncio.run_coroutine_threadsafe(build_worker(self._settings), loop)
                self._services = future.result()
                self._loop, self._thread, self._pid = loop, thread, os.getpid()
            return self._loop, self._services


async def _call(work: Callable[[WorkerServices], Awaitable[T]], services: WorkerServices) -> T:
    return await work(services)
