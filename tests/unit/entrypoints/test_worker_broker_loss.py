"""The worker's tolerance of a broker that vanished under it (see
``casemgmt.entrypoints.worker.app._survive_acks_on_a_lost_broker``): kombu's Redis channel
raises ``AttributeError`` once its connection is gone, and Celery treated that as fatal.
The end-to-end check is ``make chaos`` (redis-kill)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from kombu.connection import Connection
from kombu.message import Message

from casemgmt.entrypoints.worker.app import create_celery
from casemgmt.settings import Settings, WorkerSettings


class _GoneChannel:
    """A Redis channel whose connection was closed: every use raises AttributeError."""

    no_ack_consumers: set[str] = set()

    def basic_ack(self, *_: Any, **__: Any) -> None:
        raise AttributeError("'NoneType' object has no attribute 'hostname'")

    def close(self) -> None:
        raise AttributeError("'NoneType' object has no attribute 'hostname'")


@pytest.fixture(autouse=True)
def _patched(tmp_path: Any) -> None:
    settings = Settings(worker=WorkerSettings(broker_url="memory://"), var_dir=str(tmp_path))
    create_celery(settings)


def test_an_ack_on_a_vanished_connection_is_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = Message(body=b"{}", channel=_GoneChannel(), delivery_tag="t-1")
    logger = logging.getLogger("test.ack")
    with caplog.at_level(logging.CRITICAL, logger="test.ack"):
        message.ack_log_error(logger, (ConnectionError,))
    assert "Couldn't ack" in caplog.text
    assert message.acknowledged is False


def test_other_errors_on_ack_still_raise() -> None:
    class Broken(_GoneChannel):
        def basic_ack(self, *_: Any, **__: Any) -> None:
            raise ValueError("not a lost connection")

    message = Message(body=b"{}", channel=Broken(), delivery_tag="t-2")
    with pytest.raises(ValueError, match="not a lost connection"):
        message.ack_log_error(logging.getLogger("test.ack"), (ConnectionError,))


def test_closing_a_channel_whose_connection_is_gone_does_not_raise() -> None:
    connection = Connection("memory://")
    connection.maybe_close_channel(_GoneChannel())
