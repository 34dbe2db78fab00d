"""Worker commands: ``casemgmt worker [--beat]``, ``casemgmt beat``, ``casemgmt reminders``.

casemgmt worker --beat        the embedded default: one worker with beat inside it
casemgmt worker               production: as many as you like, plus one `casemgmt beat`
casemgmt reminders list       the schedule with each reminder's delivery outcomes
casemgmt reminders retry ID   re-queue a reminder's dead-lettered deliveries (or --dead)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.clock import SystemClock
from casemgmt.adapters.sql.engine import create_engine
from casemgmt.adapters.sql.reminders.admin import (
    DELIVERY_STATUSES,
    SCHEDULE_STATUSES,
    list_reminders,
    retry_dead,
)
from casemgmt.entrypoints.worker.app import create_celery
from casemgmt.entrypoints.worker.runner import worker_clock
from casemgmt.observability import configure_logging
from casemgmt.settings import Settings

__all__ = ["register"]

T = TypeVar("T")


def _settings() -> Settings:
    settings = Settings.from_env()
    settings.ensure_var_dir()
    configure_logging(settings.log.level, json=settings.log.json)
    return settings


@click.command("worker")
@click.option("--beat", is_flag=True, help="Run beat inside this worker (embedded default).")
@click.option("--concurrency", type=int, help="Tasks at once [CASEMGMT_WORKER_CONCURRENCY].")
@click.option(
    "--pool", type=click.Choice(["threads", "prefork", "solo"]), help="[CASEMGMT_WORKER_POOL]"
)
@click.option("--hostname", help="Celery node name (default celery@<host>).")
def worker(beat: bool, concurrency: int | None, pool: str | None, hostname: str | None) -> None:
    """Run a Celery worker that delivers reminders (broker: CASEMGMT_BROKER_URL)."""
    settings = _settings()
    argv = [
        "worker",
        f"--loglevel={settings.log.level}",
        f"--pool={pool or settings.worker.pool}",
        f"--concurrency={concurrency or settings.worker.concurrency}",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    if beat:
        argv += ["--beat", f"--schedule={settings.ensure_var_dir() / 'celerybeat-schedule'}"]
    create_celery(settings).worker_main(argv)


@click.command("beat")
def beat() -> None:
    """Run Celery beat (one per deployment): scans every CASEMGMT_SCAN_INTERVAL_SECONDS."""
    settings = _settings()
    schedule = settings.ensure_var_dir() / "celerybeat-schedule"
    create_celery(settings).start(
        ["beat", f"--loglevel={settings.log.level}", f"--schedule={schedule}"]
    )


@click.group()
def reminders() -> None:
    """The reminder schedule and its deliveries."""


def _with_engine(work: Callable[[AsyncEngine, Settings], Awaitable[T]]) -> T:
    settings = Settings.from_env()

    async def main() -> T:
        engine = create_engine(settings.database.url, pool_size=1)
        try:
            return await work(engine, settings)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@reminders.command("list")
@click.option("--status", type=click.Choice([*SCHEDULE_STATUSES, *DELIVERY_STATUSES]))
@click.option("--limit", type=int, default=50, show_default=True)
def reminders_list(status: str | None, limit: int) -> None:
    """Reminders, latest send instant first: schedule status, then deliveries
    delivered / dead / queued."""
    rows = _with_engine(lambda engine, _: list_reminders(engine, status, limit))
    for r in rows:
        click.echo(
            f"{r.reminder_id}  {r.send_at:%Y-%m-%d %H:%MZ}  {r.offset_code:>5}  {r.status:<10}  "
            f"{r.delivered}/{r.dead}/{r.queued}  {r.case_id} {r.deadline_id}"
        )
    if not rows:
        click.echo("no reminders", err=True)


@reminders.command("retry")
@click.argument("reminder_id", required=False)
@click.option("--dead", "all_dead", is_flag=True, help="Every dead-lettered delivery.")
def reminders_retry(reminder_id: str | None, all_dead: bool) -> None:
    """Re-queue dead-lettered deliveries of REMINDER_ID (or all of them with --dead)."""
    if (reminder_id is None) == (not all_dead):
        raise click.UsageError("give a REMINDER_ID or --dead (not both)")

    async def work(engine: AsyncEngine, settings: Settings) -> int:
        now = (worker_clock(settings) or SystemClock()).now()
        return await retry_dead(engine, reminder_id, now)

    count = _with_engine(work)
    click.echo(f"re-queued {count} dead-lettered deliveries; the next scan sends them")


def register(main: click.Group) -> None:
    for command in (worker, beat, reminders):
        main.add_command(command)
