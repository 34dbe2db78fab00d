"""The Celery application factory: broker by setting, beat schedule, per-process runner.

The embedded default is SQLite through kombu's SQLAlchemy transport
(``sqla+sqlite:///var/broker.sqlite``), run as one worker with embedded beat
(``casemgmt worker --beat``); production uses Redis or RabbitMQ with any number of
workers and one ``casemgmt beat``. Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab

from casemgmt.entrypoints.worker.runner import WorkerRunner
from casemgmt.entrypoints.worker.tasks import (
    DELIVER,
    DELIVER_BATCH,
    DELIVER_EVENTS,
    HOUSEKEEPING,
    MARK_MISSED,
    SCAN_DUE,
    SCAN_EVENTS,
    SEND_DIGESTS,
    register_tasks,
)
from casemgmt.observability import configure_logging
from casemgmt.settings import Settings, WorkerSettings

__all__ = ["TASK_NAMES", "celery_config", "create_celery", "prepare_broker"]

TASK_NAMES = (
    SCAN_DUE,
    DELIVER,
    DELIVER_BATCH,
    MARK_MISSED,
    HOUSEKEEPING,
    SCAN_EVENTS,
    DELIVER_EVENTS,
    SEND_DIGESTS,
)
_SQLITE_BROKER = "sqla+sqlite:///"


def create_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings`` with the reminder tasks and beat schedule."""
    prepare_broker(settings.worker.broker_url)
    _survive_acks_on_a_lost_broker()
    app = Celery("casemgmt", set_as_current=False)
    app.conf.update(celery_config(settings))
    runner = WorkerRunner(settings)
    register_tasks(app, runner)
    _connect_signals(runner, settings)
    return app


def celery_config(settings: Settings) -> dict[str, Any]:
    w = settings.worker
    every = timedelta(seconds=w.scan_interval_seconds)
    return {
        "broker_url": w.broker_url,
        "result_backend": w.result_backend or None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_default_queue": w.queue,
        "worker_prefetch_multiplier": w.prefetch_multiplier,
        "worker_concurrency": w.concurrency,
        "worker_pool": w.pool,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options(w),
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "scan-due-reminders": {"task": SCAN_DUE, "schedule": every},
            "mark-missed-deadlines": {"task": MARK_MISSED, "schedule": every},
            "scan-event-notifications": {"task": SCAN_EVENTS, "schedule": every},
            "housekeeping": {"task": HOUSEKEEPING, "schedule": timedelta(hours=1)},
            "email-digests": {"task": SEND_DIGESTS, "schedule": crontab(hour=7, minute=0)},
        },
        "beat_schedule_filename": str(Path(settings.var_dir) / "celerybeat-schedule"),
    }


def transport_options(w: WorkerSettings) -> dict[str, Any]:
    """Per broker: Redis/SQS redeliver unacked tasks after the visibility timeout; the
    SQLite broker waits for its write lock instead of failing at once."""
    scheme = w.broker_url.split("://", 1)[0]
    if scheme in ("redis", "rediss", "sqs"):
        return {"visibility_timeout": w.visibility_timeout_seconds}
    if w.broker_url.startswith(_SQLITE_BROKER):
        return {"connect_args": {"timeout": 30}}
    return {}


def prepare_broker(url: str) -> None:
    """For the SQLite broker: create its directory and switch the file to WAL (persistent),
    so the worker, beat and publishers read while one of them writes."""
    if not url.startswith(_SQLITE_BROKER):
        return
    path = url.removeprefix(_SQLITE_BROKER)
    if path in ("", ":memory:"):
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _connect_signals(runner: WorkerRunner, settings: Settings) -> None:
    def process_init(**_: Any) -> None:
        runner.forget_inherited()
        _forget_inherited_broker_engines()

    def process_shutdown(**_: Any) -> None:
        runner.close()

    def setup_logging(**_: Any) -> None:
        configure_logging(settings.log.level, json=settings.log.json)

    signals.worker_process_init.connect(process_init, weak=False)
    signals.worker_process_shutdown.connect(process_shutdown, weak=False)
    signals.worker_shutdown.connect(process_shutdown, weak=False)  # the solo pool
    signals.setup_logging.connect(setup_logging, weak=False)


def _survive_acks_on_a_lost_broker() -> None:
    """Keep the worker alive when the broker goes away under it.

    When Redis dies, Celery restarts its consumer: it closes the connection's channel
    (which restores unacknowledged messages) and runs the late acknowledgements of tasks
    that finished meanwhile. kombu's Redis channel then has no connection left and raises
    ``AttributeError`` (``_connparams`` reads ``None.hostname``), which neither
    ``Connection.maybe_close_channel`` nor ``Message.ack_log_error`` counts among the
    connection errors it tolerates, so the worker died with "Unrecoverable error" and
    never reconnected (``make chaos``, redis-kill; then no worker for the experiments
    after it). Counted as a lost connection, the close and the ack are given up and the
    consumer reconnects; an unacknowledged message is redelivered later and finds its
    delivery settled (stale), so nothing is sent or recorded twice. Patches once.
    """
    from kombu.connection import Connection
    from kombu.message import Message

    if getattr(Message.ack_log_error, "_casemgmt", False):
        return
    ack: Callable[..., None] = Message.ack_log_error

    def ack_log_error(self: Message, logger: Any, errors: Any, multiple: bool = False) -> None:
        tolerated = (*errors, AttributeError) if isinstance(errors, tuple) else errors
        ack(self, logger, tolerated, multiple=multiple)

    close: Callable[[Connection, Any], None] = Connection.maybe_close_channel

    def maybe_close_channel(self: Connection, channel: Any) -> None:
        with contextlib.suppress(AttributeError):  # the channel's connection is gone
            close(self, channel)

    ack_log_error._casemgmt = True  # type: ignore[attr-defined]
    Message.ack_log_error = ack_log_error  # type: ignore[method-assign]
    Connection.maybe_close_channel = maybe_close_channel  # type: ignore[method-assign]


def _forget_inherited_broker_engines() -> None:
    # kombu's SQLAlchemy transport caches engines per URL in a class attribute; a forked
    # child must not use its parent's pooled SQLite connections (SQLAlchemy's fork recipe).
    from kombu.transport import sqlalchemy as sqla_transport

    for engine, _session in sqla_transport.Channel._engines.values():
        engine.dispose(close=False)
    sqla_transport.Channel._engines.clear()
