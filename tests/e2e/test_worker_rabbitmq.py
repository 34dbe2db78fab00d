"""Real Celery workers on RabbitMQ (``CASEMGMT_TEST_AMQP_URL``): the worker tests that
depend on what the broker does — competing consumers with two beats, retries that go
back through the broker with a countdown, and a ``kill -9`` whose unacknowledged tasks
RabbitMQ must hand to the next worker — run here exactly as on Redis and the embedded
broker (``test_worker_reminders.py``). Each test has its own queue, deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

from tests.conftest import AMQP_URL, PG_URL
from tests.e2e import test_worker_reminders as worker_tests
from tests.support.receiver import receiver
from tests.support.worker import Stack

pytestmark = [
    pytest.mark.skipif(not AMQP_URL, reason="CASEMGMT_TEST_AMQP_URL is not set"),
    pytest.mark.parametrize("backend", ["postgres" if PG_URL else "sqlite"]),
]

# Collected here a second time, on RabbitMQ: the same behaviour, another broker.
test_two_workers_with_two_beats_deliver_each_reminder_once_per_subscription = (
    worker_tests.test_two_workers_with_two_beats_deliver_each_reminder_once_per_subscription
)
test_failures_then_success_record_one_sent_and_always_500_ends_failed = (
    worker_tests.test_failures_then_success_record_one_sent_and_always_500_ends_failed
)
test_kill_9_mid_batch_loses_no_reminder_and_records_none_twice = (
    worker_tests.test_kill_9_mid_batch_loses_no_reminder_and_records_none_twice
)


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    queue = f"casemgmt-test-{uuid.uuid4().hex[:8]}"
    try:
        with receiver() as hooks:
            built = Stack(
                database_url=database_url,
                broker_url=AMQP_URL,
                clock_file=tmp_path / "clock",
                var_dir=tmp_path / "var",
                hooks=hooks,
                queue=queue,
            )
            built.set_clock(worker_tests.SET_ON)
            yield built
    finally:
        _delete_queue(queue)


def _delete_queue(queue: str) -> None:
    """Remove the test's queue and its exchange from the shared RabbitMQ."""
    with Connection(AMQP_URL, connect_timeout=10) as conn:
        channel = conn.default_channel
        channel.queue_delete(queue)
        channel.exchange_delete(queue)
