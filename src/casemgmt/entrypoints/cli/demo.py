"""``casemgmt demo load``: the seed and synthetic demo cases, recorded as events."""

from __future__ import annotations

import time

import click

from casemgmt.application.demo import LoadReport, demo_cases, load_demo
from casemgmt.application.errors import ValidationFailed
from casemgmt.bootstrap import Container
from casemgmt.entrypoints.cli.common import run_with_container
from casemgmt.entrypoints.cli.progress import progress_bar

__all__ = ["register"]


@click.group()
def demo() -> None:
    """Demo data: the X / xAI (Grok) seed cases and synthetic cases marked as such."""


@demo.command("load")
@click.option(
    "--synthetic/--seed-only",
    default=True,
    show_default=True,
    help="Also load the few hundred synthetic cases (SYN- references).",
)
def demo_load(synthetic: bool) -> None:
    """Record the demo cases through the application; a second run loads nothing twice."""
    started = time.perf_counter()
    try:
        report = run_with_container(lambda c: _load(c, synthetic))
    except ValidationFailed as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"demo: {report.cases} cases ({report.cases_opened} opened, {report.cases_present} "
        f"already present); {report.events_recorded} events recorded, "
        f"{report.events_present} already present ({time.perf_counter() - started:.1f}s)"
    )


async def _load(container: Container, synthetic: bool) -> LoadReport:
    today = container.clock.now().date()
    cases = demo_cases(synthetic=synthetic)
    with progress_bar("demo cases", total=len(cases), unit="cases") as advance:
        return await load_demo(
            container.cases, cases, today, progress=lambda done, total: advance(1)
        )


def register(main: click.Group) -> None:
    main.add_command(demo)
