"""Progress bars for long commands (rich): on a terminal only, with rate and time left.

``progress_bar(label, total)`` is a context manager yielding ``advance(n)``;
``progress_counter(label)`` one yielding ``report(done, total)`` (for work that counts
itself: rebuild, verify). The bar is drawn on stderr, and only when stderr is a terminal:
a command's output on stdout stays clean, and pipes, CI and tests get nothing at all.
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

__all__ = ["progress_bar", "progress_counter"]


class _RateColumn(TextColumn):
    def __init__(self, unit: str) -> None:
        super().__init__("")
        self.unit = unit

    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return super().render(task) if speed is None else f"{speed:,.0f} {self.unit}/s"


def _progress(unit: str) -> Progress:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        _RateColumn(unit),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=Console(stderr=True), transient=False)


@contextmanager
def progress_bar(
    label: str, total: int | None, unit: str = "lines"
) -> Iterator[Callable[[int], None]]:
    """A bar on stderr when it is a terminal; ``advance(n)`` moves it on by ``n``."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    with _progress(unit) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


@contextmanager
def progress_counter(
    label: str, unit: str = "events"
) -> Iterator[Callable[[int, int | None], None]]:
    """A bar on stderr when it is a terminal; ``report(done, total)`` sets it to ``done``
    of ``total`` (None: not known yet)."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    with _progress(unit) as progress:
        task = progress.add_task(label, total=None)

        def report(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield report
