"""What the commands share: run async work on a container built from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from casemgmt.application.ports import Clock
from casemgmt.bootstrap import Container, build_container
from casemgmt.settings import Settings

__all__ = ["run_with_container"]

T = TypeVar("T")


def run_with_container(
    work: Callable[[Container], Awaitable[T]],
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
) -> T:
    """Build the container (``CASEMGMT_*`` settings unless given), run ``work``, close it."""

    async def main() -> T:
        container = build_container(settings or Settings.from_env(), clock=clock)
        try:
            return await work(container)
        finally:
            await container.aclose()

    return asyncio.run(main())
