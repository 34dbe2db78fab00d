"""Long commands draw a progress bar with rate and time left on a terminal, nothing otherwise."""

from __future__ import annotations

import io

import pytest

from casemgmt.entrypoints.cli.progress import progress_bar, progress_counter


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_count_and_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    with progress_bar("importing", total=3) as advance:
        for _ in range(3):
            advance(1)
    drawn = screen.getvalue()
    assert "importing" in drawn
    assert "3/3" in drawn
    assert "lines/s" in drawn


def test_a_pipe_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    with progress_bar("importing", total=3) as advance:
        advance(3)
    assert pipe.getvalue() == ""


def test_a_counter_shows_done_of_total_and_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    with progress_counter("verifying") as report:
        report(0, None)
        report(5_000, 12_000)
        report(12_000, 12_000)
    drawn = screen.getvalue()
    assert "verifying" in drawn
    assert "12000/12000" in drawn
    assert "events/s" in drawn


def test_a_counter_on_a_pipe_draws_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    with progress_counter("rebuilding") as report:
        report(10, 10)
    assert pipe.getvalue() == ""
