"""``casemgmt events``: the event log's storage (PostgreSQL's month partitions)."""

from __future__ import annotations

from datetime import datetime

import click

from casemgmt.bootstrap import Operations, PartitionListing
from casemgmt.entrypoints.cli.common import run_with_container as _run

__all__ = ["register"]

_UNPARTITIONED = "events is one table on this database (SQLite: not partitioned); nothing to do"


@click.group()
def events() -> None:
    """The event log's storage."""


@events.command("partitions")
@click.option("--ensure", is_flag=True, help="First create the month partitions ahead now.")
@click.option(
    "--ahead",
    type=click.IntRange(0, 120),
    default=None,
    help="With --ensure: months beyond this one [default: CASEMGMT_EVENT_PARTITIONS_AHEAD].",
)
def partitions(ensure: bool, ahead: int | None) -> None:
    """List the partitions of events in order: bounds (UTC), estimated rows, size.

    Events sitting in events_default (no month partition took them) are flagged: their
    month cannot get a partition of its own."""
    if ahead is not None and not ensure:
        raise click.UsageError("--ahead needs --ensure")

    async def work(ops: Operations) -> tuple[list[tuple[str, str]], PartitionListing | None]:
        ensured = await ops.ensure_partitions(ahead) if ensure else []
        return [(p.name, p.status) for p in ensured], await ops.partitions()

    ensured, listing = _run(lambda c: work(Operations(c)))
    for name, status in ensured:
        click.echo(f"{name}: {status}")
    if listing is None:
        click.echo(_UNPARTITIONED)
        return
    _print_listing(listing)


def _print_listing(listing: PartitionListing) -> None:
    default_rows = listing.default_rows
    click.echo(f"{'partition':<18} {'from':<16} {'to':<16} {'rows (est.)':>12} {'size':>9}")
    for p in listing.partitions:
        lower = "DEFAULT" if p.is_default else _when(p.lower, "MINVALUE")
        upper = "" if p.is_default else _when(p.upper, "MAXVALUE")
        rows = "?" if p.rows_estimate is None else str(p.rows_estimate)
        flag = "  <- holds events" if p.is_default and default_rows else ""
        click.echo(
            f"{p.name:<18} {lower:<16} {upper:<16} {rows:>12} {_size(p.total_bytes):>9}{flag}"
        )
    if default_rows:
        months = ", ".join(f"{m}: {n}" for m, n in default_rows.items())
        total = sum(default_rows.values())
        click.secho(
            f"WARNING: events_default holds {total} event(s) ({months}); those months get "
            "no partition of their own (see docs/operations.md)",
            err=True,
            fg="yellow",
        )


def _when(moment: datetime | None, unbounded: str) -> str:
    return unbounded if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def register(main: click.Group) -> None:
    main.add_command(events)
