"""``casemgmt import FILE.ndjson``: the command-line twin of ``POST /v1/import``.

The same lines, decoded by the same function, applied by the same service: one event per
line with its ``case_id``. If any line is invalid (not JSON, a bad field) nothing is
written and each bad line is named, as the API's 422 does. Otherwise the lines are applied
in batches; each rejected line (a rule of its case refused it) is printed with its reason.
Exit status: 0 when nothing was rejected, 1 otherwise. The command acts with admin rights
(the operator of the database), recorded as the actor ``key:cli``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from casemgmt.application.auth import Principal, Role
from casemgmt.application.imports import ImportItem, ImportResult
from casemgmt.bootstrap import Container
from casemgmt.entrypoints.cli.common import run_with_container
from casemgmt.entrypoints.cli.progress import progress_bar
from casemgmt.entrypoints.http.ndjson import decode_line

__all__ = ["CLI_PRINCIPAL", "register"]

CLI_PRINCIPAL = Principal(key_id="cli", name="command line", role=Role.ADMIN)


def read_items(path: Path) -> list[ImportItem]:
    """Every non-blank line of ``path``, decoded (invalid ones carry ``error``)."""
    with path.open("rb") as lines:
        return [decode_line(n, raw) for n, raw in enumerate(lines, start=1) if raw.strip()]


async def _apply(container: Container, items: list[ImportItem]) -> list[ImportResult]:
    results: list[ImportResult] = []
    with progress_bar("importing", total=len(items)) as advance:
        async for result in container.imports.stream(CLI_PRINCIPAL, items):
            results.append(result)
            advance(1)
    return results


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(file: Path) -> None:
    """Import FILE (NDJSON: one event per line with its case_id), as POST /v1/import does."""
    items = read_items(file)
    invalid = [item for item in items if item.error is not None]
    if invalid or not items:
        for item in invalid:
            click.echo(f"line {item.line}: {item.field or 'body'}: {item.error}", err=True)
        raise click.ClickException(
            f"{len(invalid)} invalid line(s) in {file}; nothing was imported"
            if invalid
            else f"{file} holds no lines"
        )
    results = run_with_container(lambda c: _apply(c, items))
    counts = Counter(r.status for r in results)
    for r in results:
        if r.status == "rejected":
            click.echo(f"line {r.line}: rejected: {r.reason}", err=True)
    click.echo(
        f"{file}: {counts['accepted']} accepted, {counts['duplicate']} duplicate, "
        f"{counts['rejected']} rejected"
    )
    if counts["rejected"]:
        raise SystemExit(1)


def register(main: click.Group) -> None:
    main.add_command(import_file)
