"""Errors the domain raises on purpose.

DomainError
├── RuleViolation     a regime rule refused a proposed action (HTTP 422)
│   └── CalendarYearUnavailable  arithmetic reached a year its calendar has no list for
├── RegimeFileError   a regime file is malformed or inconsistent (startup failure)
├── UnknownRegime     no regime is registered for (regulator, regime code)
└── InvalidHistory    a stream that no valid use of ``decide`` can produce
"""

from __future__ import annotations

__all__ = [
    "CalendarYearUnavailable",
    "DomainError",
    "InvalidHistory",
    "RegimeFileError",
    "RuleViolation",
    "UnknownRegime",
]


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class RuleViolation(DomainError):
    """A regime rule refused the action.

    ``regime`` is ``"<regulator>/<regime code>"`` (``"ofcom/osa-2023"``), ``rule`` a stable
    snake_case id (from the regime file, or one of the built-in ids of ``decide``), and
    ``field`` the offending field of the action when there is one. The message is
    ``"<regime>: <reason>"``.
    """

    def __init__(self, regime: str, rule: str, reason: str, field: str | None = None) -> None:
        super().__init__(f"{regime}: {reason}")
        self.regime = regime
        self.rule = rule
        self.reason = reason
        self.field = field


class RegimeFileError(DomainError):
    """A regime file cannot be used: names the file, the key path (``stages[2].allows``) and why."""

    def __init__(self, source: str, key: str | None, reason: str) -> None:
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


class UnknownRegime(DomainError):
    """No regime is registered under ``regulator`` and ``code``."""

    def __init__(self, regulator: str, code: str) -> None:
        super().__init__(f"no regime {code!r} for regulator {regulator!r}")
        self.regulator = regulator
        self.code = code


class InvalidHistory(DomainError):
    """``evolve`` was given a stream that does not start with ``case_opened``."""


class CalendarYearUnavailable(RuleViolation):
    """Period arithmetic on ``calendar`` reached ``year``, for which it has no holiday list.

    Counting such a year as weekends only would give a wrong date silently, so the
    arithmetic refuses instead: a rule violation (``calendar_year_unavailable``; HTTP 422
    naming the calendar and the year), so ``decide`` refuses the action that needs it.
    """

    def __init__(self, calendar: str, year: int, known: str) -> None:
        super().__init__(
            "calendars",
            "calendar_year_unavailable",
            f"calendar {calendar!r} has no holiday list for {year} (known: {known}); "
            f"add the year to its data before counting periods that reach it",
        )
        self.calendar = calendar
        self.year = year
        self.known = known
