"""Worker commands: ``casemgmt worker [--beat]``, ``casemgmt beat``, ``casemgmt reminders``.

casemgmt worker --beat        the embedded default: one worker with beat inside it
casemgmt worker               production: as many as you like, plus one `casemgmt beat`
casemgmt reminders list       the schedule with each reminder's delivery outcomes
casemgmt reminders retry ID   re-queue a reminder's dead-lettered deliveries (or --dead)
"""

from __future__ import annotations

import click

from casemgmt.application.reminders.policy import DELIVERY_STATUSES, SCHEDULE_STATUSES
from casemgmt.bootstrap import Operations, worker_clock
from casemgmt.entrypoints.cli.common import run_with_container
from casemgmt.entrypoints.worker.app import create_celery
from casemgmt.observability import configure_logging
from casemgmt.settings import Settings

__all__ = ["register"]


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


@reminders.command("list")
@click.option("--status", type=click.Choice([*SCHEDULE_STATUSES, *DELIVERY_STATUSES]))
@click.option("--limit", type=int, default=50, show_default=True)
def reminders_list(status: str | None, limit: int) -> None:
    """Reminders, latest send instant first: schedule status, then deliveries
    delivered / dead / queued."""
    rows = run_with_container(lambda c: Operations(c).reminders(status, limit))
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

    settings = Settings.from_env()
    count = run_with_container(
        lambda c: Operations(c).retry_dead(reminder_id), settings, clock=worker_clock(settings)
    )
    click.echo(f"re-queued {count} dead-lettered deliveries; the next scan sends them")


def register(main: click.Group) -> None:
    for command in (worker, beat, reminders):
        main.add_command(command)
