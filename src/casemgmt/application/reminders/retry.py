"""The retry schedule of a webhook delivery: exponential, jittered, with a floor and a span.

A receiver that is down for a while (a deploy, a 30-second outage, a night's maintenance)
must not dead-letter reminders: the retries of one delivery are spread over at least
``min_span_seconds`` in total, and no retry comes sooner than ``floor_seconds``.

Retry ``n`` (after the ``n``-th failed attempt, ``1 <= n < max_attempts``) waits a
uniformly random delay in ``[low(n), high(n)]`` where
``high(n) = min(max_seconds, stretch * base_seconds * 2**(n-1))`` and
``low(n) = max(floor_seconds, high(n) / 2)`` ("equal jitter": spread out, never bunched at
zero). ``stretch >= 1`` is the smallest factor for which the lows alone add up to
``min_span_seconds``, so the span holds for every draw; a ``Retry-After`` from the
receiver lengthens a delay (up to ``max_seconds``), never shortens it. Settings that
cannot cover the span (too few attempts or too low a cap) raise ``ValueError``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["RetryPolicy"]

_STRETCH_STEPS = 60


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float
    floor_seconds: float = 0.0
    min_span_seconds: float = 0.0
    stretch: float = field(init=False, default=1.0)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds < 0 or self.max_seconds < 0:
            raise ValueError("retry policy: attempts >= 1 and non-negative delays required")
        if self.floor_seconds < 0 or self.min_span_seconds < 0:
            raise ValueError("retry policy: floor and span must not be negative")
        object.__setattr__(self, "stretch", self._stretch_for_span())

    def bounds(self, attempt: int, stretch: float | None = None) -> tuple[float, float]:
        """``(low, high)`` of the delay after failed attempt ``attempt`` (1-based)."""
        factor = self.stretch if stretch is None else stretch
        high = min(self.max_seconds, factor * self.base_seconds * 2 ** (attempt - 1))
        low = max(self.floor_seconds, high / 2)
        return low, max(low, high)

    def min_span(self, stretch: float | None = None) -> float:
        """The least total wait over all retries (every delay at its low bound)."""
        return sum(self.bounds(n, stretch)[0] for n in range(1, self.max_attempts))

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt``; never before ``Retry-After``."""
        low, high = self.bounds(attempt)
        chosen = rng.uniform(low, high)
        if retry_after is None:
            return chosen
        return max(chosen, min(retry_after, self.max_seconds))

    def _stretch_for_span(self) -> float:
        if self.min_span(1.0) >= self.min_span_seconds:
            return 1.0
        ceiling = (self.max_attempts - 1) * max(self.floor_seconds, self.max_seconds / 2)
        if self.base_seconds <= 0 or ceiling < self.min_span_seconds:
            raise ValueError(
                f"retry policy cannot cover {self.min_span_seconds:g} s: {self.max_attempts} "
                f"attempts with delays of at most {self.max_seconds:g} s wait at least "
                f"{ceiling:g} s; raise the attempts or the longest delay"
            )
        low, high = 1.0, 2.0
        while self.min_span(high) < self.min_span_seconds:
            low, high = high, high * 2
        for _ in range(_STRETCH_STEPS):  # bisection to the smallest sufficient factor
            middle = (low + high) / 2
            low, high = (
                (middle, high) if self.min_span(middle) < self.min_span_seconds else (low, middle)
            )
        return high
