"""Signed webhook delivery over ``httpx.AsyncClient`` (Standard Webhooks).

Headers: ``webhook-id`` (the same on every attempt of a delivery), ``webhook-timestamp``
(Unix seconds of this attempt, from the real wall clock: receivers compare it with their
own clock to refuse replays, so it never follows a test or replay clock) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the
base64-decoded part of the subscription's ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from casemgmt.application.reminders.policy import SECRET_PREFIX, SendResult

__all__ = ["HttpxWebhookSender", "build_client", "parse_retry_after", "sign"]

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


def build_client(timeout: float, max_connections: int = 50) -> httpx.AsyncClient:
    """A client for one worker process and its event loop; no redirects are followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20),
        follow_redirects=False,
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
        except httpx.TimeoutException as exc:
            return SendResult(
                status_code=None, error=f"timeout: {type(exc).__name__}", duration_ms=_ms(started)
            )
        except httpx.HTTPError as exc:
            return SendResult(
                status_code=None,
                error=f"{type(exc).__name__}: {exc}"[:500],
                duration_ms=_ms(started),
            )
        ok = 200 <= response.status_code < 300
        return SendResult(
            status_code=response.status_code,
            error=None if ok else (response.text[:200] or None),
            retry_after=parse_retry_after(response.headers.get("retry-after"), now),
            duration_ms=_ms(started),
        )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
