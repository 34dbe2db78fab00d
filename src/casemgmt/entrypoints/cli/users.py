"""``casemgmt users``: people who sign in to the dashboard with a password.

``invite`` prints the invite code on stdout (shown once; only its hash is stored) and
what to do with it on stderr; ``disable`` takes effect at once in every API process.
"""

from __future__ import annotations

import click

from casemgmt.application.auth import Role
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.users import IssuedInvite
from casemgmt.entrypoints.cli.common import run_with_container as _run

__all__ = ["register"]


@click.group()
def users() -> None:
    """People: invite (a one-time code to set a password), list, disable, enable."""


def _show(issued: IssuedInvite) -> None:
    user = issued.user
    click.echo(
        f"invite for {user.name} <{user.email}> ({user.role.value}, user {user.user_id}); "
        f"valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC, once. Give them this code "
        "and the page /dashboard/set-password of the dashboard (shown once):",
        err=True,
    )
    click.echo(issued.code)


@users.command("invite")
@click.option("--email", required=True)
@click.option("--name", required=True, help="The person's name, as the dashboard shows it.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--regulator", "regulators", multiple=True, help="Repeat; none means all.")
def users_invite(email: str, name: str, role: str, regulators: tuple[str, ...]) -> None:
    """Invite a person and print their one-time invite code."""
    scope = list(regulators) or None
    try:
        issued = _run(lambda c: c.people.invite(None, email, name, Role(role), scope))
    except ValidationFailed as exc:
        raise click.ClickException(str(exc)) from exc
    _show(issued)


@users.command("reinvite")
@click.argument("user")
def users_reinvite(user: str) -> None:
    """A new invite code for USER (id or email): a forgotten password, an expired invite."""
    try:
        issued = _run(lambda c: c.people.reinvite(None, user))
    except (NotFound, ValidationFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    _show(issued)


@users.command("list")
def users_list() -> None:
    """Everyone: id, role, scope, status, email, name, invited by."""
    for u in _run(lambda c: c.people.visible(None)):
        scope = ",".join(u.regulators) if u.regulators is not None else "*"
        status = "disabled" if u.disabled_at else "active" if u.password_hash else "invited"
        click.echo(
            f"{u.user_id}  {u.role.value:<6}  {scope:<24}  {status:<8}  {u.email}  {u.name}"
            f"  (by {u.created_by})"
        )


def _set_enabled(user: str, enabled: bool) -> None:
    try:
        found = _run(lambda c: c.people.set_enabled(None, user, enabled))
    except (NotFound, ValidationFailed) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'enabled' if enabled else 'disabled'} {found.user_id} ({found.email})")


@users.command("disable")
@click.argument("user")
def users_disable(user: str) -> None:
    """Disable USER (id or email) at once: sessions end, sign-in is refused."""
    _set_enabled(user, False)


@users.command("enable")
@click.argument("user")
def users_enable(user: str) -> None:
    """Re-enable USER (id or email)."""
    _set_enabled(user, True)


def register(main: click.Group) -> None:
    main.add_command(users)
