"""Rate limits: failed authentication per client address, requests per API key.

Token buckets held in this process (each API process limits on its own, so N processes
allow N times the rate; a shared limit would need a shared store). A bucket holds up to
``burst`` tokens and refills at ``rate`` per second; a request that finds it empty gets
429 with ``Retry-After``. A client address whose failure bucket is empty is refused
before its key is even looked at, so a correct guess teaches a locked-out guesser nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from litestar.exceptions import HTTPException

__all__ = ["RateLimits", "TokenBuckets", "TooManyRequests"]

#: Buckets kept per limit before full (idle) ones are dropped.
MAX_BUCKETS = 100_000


class TooManyRequests(HTTPException):
    status_code = 429

    def __init__(self, detail: str, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(detail=detail, headers={"Retry-After": str(seconds)})


class TokenBuckets:
    """One bucket per key: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def _level(self, key: str, now: float) -> float:
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until ``key`` has a token (0: it has one now); takes nothing."""
        level = self._level(key, self._clock())
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str) -> float:
        """Take a token from ``key``'s bucket: 0 if taken, else the seconds to wait."""
        now = self._clock()
        level = self._level(key, now)
        if level < 1:
            return (1 - level) / self.rate
        if len(self._buckets) >= MAX_BUCKETS:
            self._drop_full(now)
        self._buckets[key] = (level - 1, now)
        return 0.0

    def _drop_full(self, now: float) -> None:
        for key in [k for k in self._buckets if self._level(k, now) >= self.burst]:
            del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:  # all busy: forget the oldest half
            for key in list(self._buckets)[: MAX_BUCKETS // 2]:
                del self._buckets[key]


@dataclass
class RateLimits:
    """The API's two limits; a limit with rate 0 is off."""

    auth_failures: TokenBuckets | None
    per_key: TokenBuckets | None

    def check_address(self, address: str) -> None:
        """``TooManyRequests`` if ``address`` has used up its failed authentications."""
        if self.auth_failures is not None:
            wait = self.auth_failures.wait(address)
            if wait > 0:
                raise TooManyRequests("too many failed authentications from this address", wait)

    def failed(self, address: str) -> None:
        """Count a failed authentication against ``address``."""
        if self.auth_failures is not None:
            self.auth_failures.take(address)

    def check_key(self, key_id: str) -> None:
        """``TooManyRequests`` if the key ``key_id`` is over its request rate."""
        if self.per_key is not None:
            wait = self.per_key.take(key_id)
            if wait > 0:
                raise TooManyRequests("this key is over its request rate", wait)

    @classmethod
    def of(
        cls, failures_per_minute: float, failure_burst: int, key_rate: float, key_burst: int
    ) -> RateLimits:
        failures = (
            TokenBuckets(failures_per_minute / 60, failure_burst) if failures_per_minute else None
        )
        return cls(failures, TokenBuckets(key_rate, key_burst) if key_rate else None)
