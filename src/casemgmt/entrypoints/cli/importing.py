"""``casemgmt import FILE.ndjson``: the command-line twin of ``POST /v1/import``.

The same lines, decoded by the same function, applied by the same service: one event per
line with its ``case_id``. If any line is invalid (not JSON, a bad field) nothing is
written and each bad line is named, as the API's 422 does (a first pass over the file;
the second decodes each line again as it is applied, so memory stays bounded whatever
the file's size). Otherwise the lines are applied in batches; each rejected line (a rule
of its case refused it) is printed with its reason as it comes. Exit status: 0 when
nothing was rejected, 1 otherwise. The command acts with admin rights (the operator of
the database), recorded as the actor ``key:cli``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import click

from casemgmt.application.auth import Principal, Role
from casemgmt.application.imports import ImportItem
from casemgmt.bootstrap import Container
from casemgmt.entrypoints.cli.common import run_with_container
from casemgmt.entrypoints.cli.progress import progress_bar
from casemgmt.entrypoints.http.ndjson import MAX_REPORTED, decode_line

__all__ = ["CLI_PRINCIPAL", "check_lines", "register", "validated_lines"]

CLI_PRINCIPAL = Principal(key_id="cli", name="command line", role=Role.ADMIN)


def read_items(path: Path) -> Iterator[ImportItem]:
    """Every non-blank line of ``path``, decoded (invalid ones carry ``error``), one at a
    time: the file is never held in memory."""
    with path.open("rb") as lines:
        for n, raw in enumerate(lines, start=1):
            if raw.strip():
                yield decode_line(n, raw)


def check_lines(path: Path) -> tuple[int, int, list[ImportItem]]:
    """A first pass over ``path``: how many lines it holds, how many are invalid, and the
    first ``MAX_REPORTED`` invalid ones."""
    count, bad, invalid = 0, 0, list[ImportItem]()
    for item in read_items(path):
        count += 1
        if item.error is not None:
            bad += 1
            if len(invalid) < MAX_REPORTED:
                invalid.append(item)
    return count, bad, invalid


def validated_lines(path: Path) -> Iterator[ImportItem]:
    """The lines of a file ``check_lines`` found valid, decoded again as they are applied."""
    return read_items(path)


async def _apply(container: Container, path: Path, total: int) -> Counter[str]:
    counts: Counter[str] = Counter()
    with progress_bar("importing", total=total) as advance:
        async for result in container.imports.stream(CLI_PRINCIPAL, validated_lines(path)):
            counts[result.status] += 1
            if result.status == "rejected":
                click.echo(f"line {result.line}: rejected: {result.reason}", err=True)
            advance(1)
    return counts


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(file: Path) -> None:
    """Import FILE (NDJSON: one event per line with its case_id), as POST /v1/import does."""
    total, bad, invalid = check_lines(file)
    if bad or not total:
        for item in invalid:
            click.echo(f"line {item.line}: {item.field or 'body'}: {item.error}", err=True)
        raise click.ClickException(
            f"{bad} invalid line(s) in {file}; nothing was imported"
            if bad
            else f"{file} holds no lines"
        )
    counts = run_with_container(lambda c: _apply(c, file, total))
    click.echo(
        f"{file}: {counts['accepted']} accepted, {counts['duplicate']} duplicate, "
        f"{counts['rejected']} rejected"
    )
    if counts["rejected"]:
        raise SystemExit(1)


def register(main: click.Group) -> None:
    main.add_command(import_file)
