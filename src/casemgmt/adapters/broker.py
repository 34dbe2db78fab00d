"""Broker reachability, for the readiness check."""

from __future__ import annotations

from collections.abc import Callable

import kombu

__all__ = ["broker_check"]


def broker_check(url: str, timeout: float = 1.0) -> Callable[[], None]:
    """A blocking check that connects to the broker at ``url`` once, without retrying or
    sleeping; raises if it can't, and gives up within about ``timeout`` seconds even on a
    broker that accepts connections and never answers (callers bound their own wait)."""

    # Import the transport (and its client library) now, not inside the first timed check.
    _ = kombu.Connection(url).transport  # type: ignore[attr-defined,no-untyped-call]

    def check() -> None:
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        connection = kombu.Connection(  # type: ignore[attr-defined,no-untyped-call]
            url, connect_timeout=timeout, transport_options=options
        )
        with connection as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, interval_max=0, timeout=timeout
            )

    return check
