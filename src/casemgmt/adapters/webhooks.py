"""Signed webhook delivery over ``httpx.AsyncClient`` (Standard Webhooks).

Headers: ``webhook-id`` (the same on every attempt of a delivery), ``webhook-timestamp``
(Unix seconds of this attempt, from the real wall clock: receivers compare it with their
own clock to refuse replays, so it never follows a test or replay clock) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the
base64-decoded part of the subscription's ``whsec_`` secret.

Every connection goes through ``GuardedBackend``: the host is resolved once, every
address it resolves to must pass the ``TargetPolicy`` (no loopback, private, link-local,
... unless allowed), and the socket connects to the address that was checked (so DNS
rebinding between check and connect is impossible). Proxies from the environment are
ignored. What is recorded of an attempt is its status code or a fixed error class
(``timeout``, ``refused_target``, ``connect_failed``, ``protocol_error``), never anything
the target sent back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import select
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx

from casemgmt.application.reminders.policy import SECRET_PREFIX, SendResult
from casemgmt.application.reminders.targets import TargetPolicy

__all__ = [
    "GuardedBackend",
    "HttpxWebhookSender",
    "TargetRefused",
    "build_client",
    "parse_retry_after",
    "sign",
]

USER_AGENT = "casemgmt-webhooks/1"


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


class TargetRefused(httpcore.ConnectError):
    """The host resolved to an address the ``TargetPolicy`` refuses."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses ``policy`` allows."""

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                address = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout("name resolution timed out") from exc
        stream = await self._inner.connect_tcp(
            address, port, timeout, local_address=local_address, socket_options=socket_options
        )
        return _Stream(stream)

    async def _resolve(self, host: str, port: int) -> str:
        """The first address of ``host``; ``TargetRefused`` if any address is refused."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError("name resolution failed") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses or not all(self._policy.allows(a) for a in addresses):
            raise TargetRefused("the target is not a public address")
        return str(addresses[0])

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("webhooks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    """A connected stream whose idle-connection check is one ``poll``: the pool asks every
    pooled connection whether the server hung up each time a request starts or ends, and
    the anyio stream answers that by building its whole attribute table each time."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._socket
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """True when the socket has data or an end of stream waiting (or is gone)."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: TargetPolicy, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx builds its httpcore pool without a network backend option: rebuild it
        # with the same settings and the guarded backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


def build_client(
    timeout: float, policy: TargetPolicy | None = None, max_connections: int = 50
) -> httpx.AsyncClient:
    """A client for one worker process and its event loop, pooling up to
    ``max_connections`` keep-alive connections: no redirects are followed, no proxy from
    the environment, and only addresses ``policy`` allows (default: public ones) are
    connected to (checked at connect time, see ``GuardedBackend``)."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        # Waiting for a pooled connection is bounded by the senders' own limit, not by
        # the per-request timeout (a batch queues behind its own requests).
        timeout=httpx.Timeout(timeout, pool=None),
        transport=_GuardedTransport(policy or TargetPolicy(), limits),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


class HttpxWebhookSender:
    """``WebhookSender``: one signed POST; network and HTTP errors become a ``SendResult``."""

    def __init__(
        self, client: httpx.AsyncClient, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._wall_clock = wall_clock

    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        now = self._wall_clock()
        timestamp = int(now)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body),
        }
        started = time.monotonic()
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(status_code=None, error=_error_class(exc), duration_ms=_ms(started))
        return SendResult(
            status_code=response.status_code,
            retry_after=parse_retry_after(response.headers.get("retry-after"), now),
            duration_ms=_ms(started),
        )


def _error_class(exc: httpx.HTTPError) -> str:
    """A fixed name for a failed attempt: nothing the target said, no address, no port."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc.__cause__, TargetRefused) or isinstance(exc, httpx.UnsupportedProtocol):
        return "refused_target"
    if isinstance(exc, httpx.ConnectError):
        return "connect_failed"
    return "protocol_error"


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
