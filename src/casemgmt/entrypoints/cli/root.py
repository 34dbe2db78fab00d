"""The ``casemgmt`` command. Each subcommand reads settings from the environment.

    casemgmt db upgrade     migrate CASEMGMT_DATABASE_URL to the newest schema
    casemgmt verify         recompute every case's hash chain; exit 1 on a broken link
    casemgmt checkpoint     sign a checkpoint of every case's head (chain key needed)
    casemgmt secrets rotate re-encrypt stored webhook secrets with the first key
    casemgmt events partitions  list the events partitions (PostgreSQL); --ensure adds months

Add a command with ``@main.command()`` (or a group with ``@main.group()``) in this module.
"""

from __future__ import annotations

import click

from casemgmt.bootstrap import Operations, database_problem, upgrade_database
from casemgmt.entrypoints.cli.common import run_with_container
from casemgmt.entrypoints.cli.progress import progress_counter
from casemgmt.observability import configure_logging
from casemgmt.settings import Settings

__all__ = ["main"]


class _Commands(click.Group):
    """The command group: a database that is missing, unmigrated or unreachable is one
    line saying so and what fixes it (``casemgmt db upgrade``), not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            problem = database_problem(exc, Settings.from_env().database.url)
            if problem is None:
                raise
            raise click.ClickException(problem) from None


@click.group(cls=_Commands)
def main() -> None:
    """Event-sourced case management for regulatory enforcement."""
    # Logs go to stderr, so a command's output (a new key, a report) is all stdout holds.
    log = Settings.from_env().log
    configure_logging(log.level, json=log.json)


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database at CASEMGMT_DATABASE_URL to the newest revision."""
    ensured = upgrade_database(Settings.from_env())
    for p in ensured:
        if p.created or p.skipped:  # not the months already there or spanned
            click.echo(f"{p.name}: {p.status}")
    click.echo("database is at the newest revision")


@main.command()
def verify() -> None:
    """Recompute every case's hash chain; name the first broken event and exit 1 if any."""
    with progress_counter("verifying") as report_progress:
        report = run_with_container(lambda c: Operations(c).verify_chains(report_progress))
    if report.first_break is None:
        click.echo(f"OK: {report.events} events in {report.cases} cases")
        return
    broken = report.first_break
    for finding in report.findings:
        click.echo(f"BROKEN: {finding}", err=True)
    for other in report.breaks:
        if other != broken:
            click.echo(
                f"broken: case {other.case_id}, version {other.version}: {other.problem}",
                err=True,
            )
    click.echo(
        f"BROKEN: event {broken.event_id} (case {broken.case_id}, version {broken.version}, "
        f"position {broken.position}): {broken.problem}; "
        f"{report.broken_cases} of {report.cases} cases broken",
        err=True,
    )
    raise SystemExit(1)


@main.command()
def checkpoint() -> None:
    """Sign a checkpoint of every case's head with the chain key (the worker does it
    hourly); ``verify`` then catches any later loss of those events."""
    try:
        cases = run_with_container(lambda c: Operations(c).checkpoint())
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"checkpoint signed: {cases} case heads")


@main.group()
def secrets() -> None:
    """Webhook secrets at rest (CASEMGMT_SECRET_KEYS)."""


@secrets.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored webhook secret with the first key (also encrypts plain ones)."""
    count = run_with_container(lambda c: Operations(c).rotate_secrets())
    click.echo(f"{count} webhook secrets re-encrypted")


@main.group()
def digest() -> None:
    """Daily email digests (CASEMGMT_SMTP_URL)."""


@digest.command("send")
@click.option("--dry-run", is_flag=True, help="Build the digests and print them; send nothing.")
def digest_send(dry_run: bool) -> None:
    """Mail each active person what is due this week, overdue and missed in their scope."""
    report = run_with_container(lambda c: c.digests.send(c.clock.now(), dry_run=dry_run))
    for d in report.digests:
        click.echo(
            f"{d.user_id}  due {len(d.due_this_week)}  overdue {len(d.overdue)}  "
            f"missed {len(d.missed)}"
        )
    if report.dry_run:
        off = "" if dry_run else " (CASEMGMT_SMTP_URL is empty: digests are off)"
        click.echo(f"dry run: nothing sent{off}")
    else:
        click.echo(f"sent {report.sent}, {report.skipped_empty} with nothing to report")


def _register_commands() -> None:
    # The subcommand modules register themselves on ``main``.
    from casemgmt.entrypoints.cli import (
        admin,
        demo,
        events,
        importing,
        receive,
        run,
        users,
        worker,
    )

    for module in (admin, demo, events, importing, receive, run, users, worker):
        module.register(main)


_register_commands()
