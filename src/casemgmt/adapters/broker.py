"""Broker reachability, for ``/health``."""

from __future__ import annotations

from collections.abc import Callable

import kombu

__all__ = ["broker_check"]


def broker_check(url: str, timeout: float = 2.0) -> Callable[[], None]:
    """A blocking check that connects to the broker at ``url`` once (raises if it can't)."""

    def check() -> None:
        with kombu.Connection(url, connect_timeout=timeout) as conn:  # type: ignore[attr-defined,no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=timeout)

    return check
