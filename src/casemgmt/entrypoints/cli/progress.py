"""Progress bars for long commands (rich): on a terminal only, with rate and time left.

``progress_bar(label, total)`` is a context manager yielding ``advance(n)``. When stderr
is not a terminal (pipes, CI, tests) nothing is drawn and ``advance`` does nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar"]


class _RateColumn(TextColumn):
    def __init__(self, unit: str) -> None:
        super().__init__("")
        self.unit = unit

    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return super().render(task) if speed is None else f"{speed:,.0f} {self.unit}/s"


@contextmanager
def progress_bar(
    label: str, total: int | None, unit: str = "lines"
) -> Iterator[Callable[[int], None]]:
    """A bar on stderr when it is a terminal; ``advance(n)`` moves it on by ``n``."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(unit),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
