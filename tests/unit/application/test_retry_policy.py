"""The retry schedule: a floor per retry and a least total span, for every random draw."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casemgmt.application.reminders.retry import RetryPolicy
from casemgmt.settings import ReminderSettings


def _policy_or_none(**kwargs: float) -> RetryPolicy | None:
    try:
        return RetryPolicy(**kwargs)  # type: ignore[arg-type]
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(
    attempts=st.integers(2, 20),
    base=st.floats(0.01, 120),
    cap=st.floats(1, 3600),
    floor=st.floats(0, 30),
    span=st.floats(0, 7200),
    seed=st.integers(0, 2**32),
    retry_afters=st.lists(st.none() | st.floats(0, 600), min_size=19, max_size=19),
)
def test_retries_never_come_sooner_than_the_floor_nor_add_up_to_less_than_the_span(
    attempts: int,
    base: float,
    cap: float,
    floor: float,
    span: float,
    seed: int,
    retry_afters: list[float | None],
) -> None:
    policy = _policy_or_none(
        max_attempts=attempts,
        base_seconds=base,
        max_seconds=cap,
        floor_seconds=floor,
        min_span_seconds=span,
    )
    if policy is None:  # settings that cannot cover the span are refused, never weakened
        assert (attempts - 1) * max(floor, cap / 2) < span
        return
    rng = random.Random(seed)
    delays = [policy.delay(n, retry_afters[n - 1], rng) for n in range(1, attempts)]
    assert all(d >= floor for d in delays)
    assert sum(delays) >= span * (1 - 1e-9)


def test_the_default_schedule_outlasts_an_hour_and_a_short_outage() -> None:
    r = ReminderSettings()
    policy = RetryPolicy(
        r.max_attempts,
        r.backoff_base_seconds,
        r.backoff_max_seconds,
        floor_seconds=r.backoff_floor_seconds,
        min_span_seconds=r.retry_span_seconds,
    )
    rng = random.Random(0)
    lows = [policy.bounds(n)[0] for n in range(1, r.max_attempts)]
    assert sum(lows) >= 3600
    assert lows[0] >= 30  # a 30-second receiver outage cannot take two attempts
    assert max(policy.delay(n, None, rng) for n in range(1, r.max_attempts)) <= 900


def test_settings_that_cannot_cover_the_span_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot cover 3600 s"):
        RetryPolicy(8, 2.0, 900.0, floor_seconds=5.0, min_span_seconds=3600.0)


def test_retry_after_lengthens_a_delay_up_to_the_cap() -> None:
    policy = RetryPolicy(5, 1.0, 100.0, floor_seconds=1.0)
    rng = random.Random(1)
    assert policy.delay(1, 50.0, rng) == 50.0
    assert policy.delay(1, 500.0, rng) == 100.0
