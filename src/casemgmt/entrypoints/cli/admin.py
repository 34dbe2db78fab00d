"""Administrative commands: API keys, projection rebuilds, deadline arithmetic, settings."""

from __future__ import annotations

from datetime import datetime

import click

from casemgmt.application.auth import Role
from casemgmt.application.due_dates import DueDateQuery
from casemgmt.application.due_dates import due_date as compute_due_date
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.bootstrap import Operations, load_regimes
from casemgmt.domain.calendar.calendars import CALENDAR_NAMES
from casemgmt.domain.errors import CalendarYearUnavailable
from casemgmt.entrypoints.cli.common import run_with_container as _run
from casemgmt.entrypoints.cli.progress import progress_counter
from casemgmt.settings import Settings, setting_rows

__all__ = ["register"]


@click.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke."""


@keys.command("create")
@click.option("--name", default="cli", show_default=True, help="What the key is for.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--regulator", "regulators", multiple=True, help="Repeat; none means all.")
def keys_create(name: str, role: str, regulators: tuple[str, ...]) -> None:
    """Create a key and print it (it is stored only as a hash)."""
    scope = list(regulators) or None
    issued = _run(lambda c: c.access.create_key(None, name, Role(role), scope))
    shown = ", ".join(regulators) or "all regulators"
    click.echo(f"{role} key {issued.key.key_id} for {shown} (shown once, keep it safe):", err=True)
    click.echo(issued.token)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, role, scope, created, revoked, created by."""
    for key in _run(lambda c: c.access.list_keys(None)):
        scope = ",".join(key.regulators) if key.regulators is not None else "*"
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        by = key.created_by or "?"
        click.echo(
            f"{key.key_id}  {key.role.value:<6}  {scope:<24}  {key.name}  ({revoked}; by {by})"
        )


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key (at once, in every running API process)."""
    try:
        key = _run(lambda c: c.access.revoke_key(None, key_id))
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key.key_id} ({key.name})")


@keys.command("feed-create")
@click.argument("key_id")
@click.option("--name", required=True, help="Whose calendar (a person or a team).")
@click.option("--regulator", "regulators", multiple=True, help="Narrow the key's scope.")
def feed_create(key_id: str, name: str, regulators: tuple[str, ...]) -> None:
    """Create a read-only calendar feed token acting for KEY_ID and print it."""
    try:
        _, token = _run(
            lambda c: c.access.create_feed_token_for(key_id, name, list(regulators) or None)
        )
    except (NotFound, ValidationFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("feed token (shown once): /v1/deadlines.ics?token=<it>", err=True)
    click.echo(token)


@keys.command("feed-list")
def feed_list() -> None:
    """Every calendar feed token: id, key, scope, name, revoked."""
    for t in _run(lambda c: c.access.feed_tokens(None)):
        scope = ",".join(t.regulators) if t.regulators is not None else "*"
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        click.echo(f"{t.token_id}  key {t.key_id}  {scope:<24}  {t.name}  ({state})")


@keys.command("feed-revoke")
@click.argument("token_id")
def feed_revoke(token_id: str) -> None:
    """Revoke a calendar feed token."""
    try:
        token = _run(lambda c: c.access.revoke_feed_token(None, token_id))
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked feed token {token.token_id} ({token.name})")


@click.group()
def projections() -> None:
    """Read models folded from the event log."""


@projections.command("rebuild")
@click.argument("names", nargs=-1)
def projections_rebuild(names: tuple[str, ...]) -> None:
    """Replay the log into fresh tables and swap them in (all projections by default,
    from one pass over the log)."""
    try:
        with progress_counter("rebuilding") as report_progress:
            reports = _run(lambda c: Operations(c).rebuild(names, report_progress))
    except LookupError as exc:
        raise click.BadParameter(str(exc)) from exc
    for report in reports:
        click.echo(
            f"{report.name}: {report.cases} cases, {report.events} events replayed, "
            f"{report.caught_up} caught up at the swap, {report.seconds:.2f}s"
        )


@click.command("due-date")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--rule", help="A regime rule id (e.g. ico_penalty_notice_appeal).")
@click.option("--calendar", type=click.Choice(sorted(CALENDAR_NAMES)))
@click.option("--amount", type=int)
@click.option("--unit", type=click.Choice(["working_days", "calendar_days", "months"]))
@click.option("--inclusive", is_flag=True, help="Counted beginning with the start day.")
@click.option("--roll-forward", is_flag=True, help="Move a non-working due day to the next.")
def due_date(
    start: datetime,
    rule: str | None,
    calendar: str | None,
    amount: int | None,
    unit: str | None,
    inclusive: bool,
    roll_forward: bool,
) -> None:
    """Deadline arithmetic: the due date of a rule or a period, with its steps."""
    settings = Settings.from_env()
    query = DueDateQuery(
        start=start.date(),
        rule=rule,
        calendar=calendar,
        amount=amount,
        unit=unit,  # type: ignore[arg-type]  # click.Choice restricts it to the three units
        counting="beginning_with" if inclusive else "after",
        roll_forward=roll_forward,
    )
    try:
        answer = compute_due_date(load_regimes(settings), query)
    except (ValidationFailed, CalendarYearUnavailable) as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"{answer.due_on.isoformat()} ({answer.due_on:%A})")
    click.echo(answer.explanation.sentence)
    for n, step in enumerate(answer.explanation.steps, 1):
        click.echo(f"  {n:>2}. [{step.kind}] {step.text}")


@click.command("settings")
def settings_table() -> None:
    """Print every CASEMGMT_* setting with its default (a Markdown table)."""
    click.echo("| setting | default | meaning |\n|---|---|---|")
    for env, default, doc in setting_rows():
        click.echo(f"| `{env}` | `{default}` | {doc} |")


def register(main: click.Group) -> None:
    for command in (keys, projections, due_date, settings_table):
        main.add_command(command)
