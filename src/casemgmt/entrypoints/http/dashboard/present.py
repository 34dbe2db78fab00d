"""Presentation for the dashboard: names, labels, filter options, formatting, page links.

Pure functions over what the query service returns and what the regimes declare; the
templates call the formatting ones as Jinja filters (``register_filters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec

from casemgmt.application.auth import Principal
from casemgmt.application.views import DeadlineView, EnvelopeView
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.regime.registry import RegimeRegistry

__all__ = [
    "DUE_SOON_WORKING_DAYS",
    "Names",
    "deadline_state",
    "event_fields",
    "humanize",
    "occurred",
    "page_url",
    "register_filters",
]

#: An open deadline this many working days away or fewer is "due soon".
DUE_SOON_WORKING_DAYS = 5
_HIDDEN_FIELDS = {"occurred_on", "occurred_at", "type"}


def humanize(code: str | None) -> str:
    """``internal_review_window`` -> ``Internal review window``."""
    if not code:
        return ""
    text = code.replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


class Names:
    """Human names for the codes of the regimes a principal may see."""

    def __init__(self, regimes: RegimeRegistry, principal: Principal) -> None:
        self._regimes = regimes
        self.regulators = {
            code: name
            for code, name in sorted(regimes.regulators().items())
            if principal.can_see(code)
        }

    def regimes(self) -> list[tuple[str, str]]:
        """(code, "code — law") of every regime open to a visible regulator."""
        seen: dict[str, str] = {}
        for regulator in self.regulators:
            for regime in self._regimes.for_regulator(regulator):
                seen.setdefault(regime.code, f"{regime.code} — {regime.law}")
        return sorted(seen.items())

    def stages(self) -> list[tuple[str, str]]:
        """(code, name) of every stage of the visible regimes, in regime order."""
        seen: dict[str, str] = {}
        for regulator in self.regulators:
            for regime in self._regimes.for_regulator(regulator):
                for stage in regime.stages:
                    seen.setdefault(stage.code, humanize(stage.code))
        return list(seen.items())

    def stage(self, regulator: str, regime: str, code: str) -> str:
        """The regime's own name for stage ``code`` (e.g. ``Proceedings opened``)."""
        try:
            found = self._regimes.get(regulator, regime)
        except UnknownRegime:
            return humanize(code)
        return next((s.name for s in found.stages if s.code == code), humanize(code))

    def stage_names(self, regulator: str, regime: str) -> dict[str, str]:
        """Stage code -> the regime's own name, for every stage of the regime."""
        try:
            return {s.code: s.name for s in self._regimes.get(regulator, regime).stages}
        except UnknownRegime:
            return {}

    def stage_order(self, regulator: str, regime: str, code: str) -> int:
        try:
            codes = [s.code for s in self._regimes.get(regulator, regime).stages]
        except UnknownRegime:
            return 999
        return codes.index(code) if code in codes else 999

    def regulator(self, code: str) -> str:
        return self.regulators.get(code, code)

    def timezone(self, regulator: str, regime: str) -> str:
        try:
            return self._regimes.get(regulator, regime).timezone
        except UnknownRegime:
            return "UTC"


def _past(d: DeadlineView) -> bool:
    """Open past its due day, counted from the view's day (the as-of date on a case page;
    ``DeadlineView.overdue`` always compares with the clock's now)."""
    return d.status == "open" and d.days_remaining is not None and d.days_remaining < 0


def deadline_state(d: DeadlineView) -> str:
    """The highlight of a deadline row: ``missed`` / ``overdue`` (a duty of ours past due,
        recorded missed or not yet), ``their-overdue`` (their duty past due), ``lost-right``
        (our window closed unused), ``due-soon`` (a duty, or our window, a few working days
    away) or ``""``.

        A missed duty stays highlighted until it is met late, waived or cancelled.
    """
    late = d.status == "missed" or (d.obligation == "duty" and _past(d))
    if late:
        if not d.ours:
            return "their-overdue"
        return "missed" if d.status == "missed" else "overdue"
    if d.obligation == "window" and (d.status == "closed" or _past(d)):
        return "lost-right" if d.ours else ""
    left = d.working_days_remaining
    soon = d.status == "open" and left is not None and left <= DUE_SOON_WORKING_DAYS
    if soon and (d.ours or d.obligation == "duty"):  # their window closing: information
        return "due-soon"
    return ""


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        if "sentence" in value:  # an explanation: its steps are under the deadline above
            return str(value["sentence"])
        if {"amount", "unit"} <= value.keys():
            return f"{value['amount']} {humanize(str(value['unit'])).lower()}"
        return ", ".join(f"{humanize(k).lower()}: {_value(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def event_fields(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The event's own fields as (label, text), leaving out the times and empty values."""
    return [
        (humanize(key), _value(value))
        for key, value in data.items()
        if key not in _HIDDEN_FIELDS and value not in (None, [], "")
    ]


def page_url(path: str, params: Mapping[str, Any], **changes: Any) -> str:
    """``path`` with the current query ``params`` updated by ``changes`` (None drops one)."""
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})
    return f"{path}?{query}" if query else path


def _datetime(value: datetime | None, tz: str = "UTC") -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def _datetime_short(value: datetime | None, tz: str = "UTC") -> str:
    """``Mon 2026-01-05 09:12 UTC``: to the minute (seconds never matter here)."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"


def occurred(event: EnvelopeView, tz: str = "UTC") -> str:
    """When an event happened: its day, and the local time only if the poster gave one
    (a date-only event is not "00:00:00")."""
    given = event.data.get("occurred_at")
    if given:
        return _datetime_short(event.occurred_at, tz)
    day = event.data.get("occurred_on")
    return _date(day if isinstance(day, str) else event.occurred_at.date())


def _date(value: date | str | None) -> str:
    if value is None:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:%a} {day.isoformat()}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _days(d: DeadlineView) -> str:
    """How far away a standing deadline is, or how late a duty is or was."""
    if d.status in ("missed", "met_late") and d.days_late is not None:
        working = "" if d.working_days_late is None else f" ({d.working_days_late} working)"
        late = f"{_plural(d.days_late, 'day')} late{working}"
        return late if d.status == "missed" else f"met {late}"
    wd, cd = d.working_days_remaining, d.days_remaining
    if d.status != "open" or cd is None:
        return ""
    if _past(d):
        if d.obligation == "window":
            return f"closed {_plural(-cd, 'day')} ago"
        working = f" ({-wd} working)" if wd is not None else ""
        return f"overdue by {_plural(-cd, 'day')}{working}"
    if cd == 0:
        return "due today" if d.obligation == "duty" else "closes today"
    if wd is None:
        return f"{_plural(cd, 'day')} left"
    return f"{_plural(wd, 'working day')} left ({_plural(cd, 'day')})"


def _builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)


def register_filters(filters: dict[str, Any]) -> None:
    """Add the dashboard's filters to a Jinja environment's ``filters``."""
    filters.update(
        humanize=humanize,
        when=_datetime,
        when_short=_datetime_short,
        occurred=occurred,
        day=_date,
        days_left=_days,
        deadline_state=deadline_state,
        event_fields=event_fields,
        builtins=_builtins,
    )
