"""Administrative commands: API keys, projection rebuilds, deadline arithmetic, settings."""

from __future__ import annotations

from datetime import datetime

import click

from casemgmt.application.auth import Role, issue_key, revoke_key
from casemgmt.application.due_dates import DueDateQuery
from casemgmt.application.due_dates import due_date as compute_due_date
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.bootstrap import Container, Operations, load_regimes
from casemgmt.domain.calendar.calendars import CALENDAR_NAMES
from casemgmt.domain.errors import CalendarYearUnavailable
from casemgmt.entrypoints.cli.common import run_with_container as _run
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

    async def work(c: Container) -> str:
        issued = issue_key(
            name=name, role=Role(role), regulators=list(regulators) or None, now=c.clock.now()
        )
        await c.keys.add(issued.key)
        return issued.token

    token = _run(work)
    scope = ", ".join(regulators) or "all regulators"
    click.echo(f"{role} key for {scope} (shown once, keep it safe):", err=True)
    click.echo(token)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, role, scope, created, revoked."""
    for key in _run(lambda c: c.keys.list()):
        scope = ",".join(key.regulators) if key.regulators is not None else "*"
        revoked = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
        click.echo(f"{key.key_id}  {key.role.value:<6}  {scope:<24}  {key.name}  ({revoked})")


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key (within 30 s in every running API process)."""
    try:
        key = _run(lambda c: revoke_key(c.keys, key_id, c.clock.now()))
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key.key_id} ({key.name})")


@click.group()
def projections() -> None:
    """Read models folded from the event log."""


@projections.command("rebuild")
@click.argument("names", nargs=-1)
def projections_rebuild(names: tuple[str, ...]) -> None:
    """Replay the log into fresh tables and swap them in (all projections by default)."""
    try:
        reports = _run(lambda c: Operations(c).rebuild(names))
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
