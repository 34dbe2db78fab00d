"""Clocks: the system clock for production, a settable one for tests and replays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["FileClock", "FixedClock", "SystemClock"]


class SystemClock:
    """The current instant from the operating system, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that says ``at`` until told otherwise (``set``, ``advance``).

    ``ValueError`` if given a naive datetime.
    """

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class FileClock:
    """A clock that reads the instant from a file on every call (tests and replays).

    The file holds one ISO 8601 instant with an offset (``2026-10-26T09:00:00+00:00``).
    Several processes (API, workers, beat) can share one: a test moves time for all of
    them by rewriting the file (``FileClock.write``), with no sleeps. A missing, empty or
    naive value raises ``ValueError``: a test clock never silently falls back to real time.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)

    def now(self) -> datetime:
        try:
            raw = self._path.read_text().strip()
        except OSError as exc:
            raise ValueError(f"clock file {self._path} is unreadable: {exc}") from exc
        return _aware(datetime.fromisoformat(raw))

    @staticmethod
    def write(path: str | Path, at: datetime) -> None:
        """Set the instant atomically (write a sibling file, then rename it over)."""
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(_aware(at).isoformat())
        tmp.replace(target)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: a clock gives timezone-aware instants")
    return at.astimezone(UTC)
