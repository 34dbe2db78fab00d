"""The functional core: events, case state, regimes, calendars. Pure, synchronous, no I/O.

decide(state, action, regime, today) -> [events]   may it happen, and what follows
evolve(state, event) -> state                      what an event changes
fold(events) -> state | None                       a whole stream
parse_regime(text, source) -> Regime               a TOML rulebook, checked
get_calendar(name, dated_years) -> BusinessCalendar
due_instant(due_on, tz), reminder_schedule(due_on, kind, regime)
"""

from casemgmt.domain.calendar.calendars import CALENDAR_NAMES, BusinessCalendar, get_calendar
from casemgmt.domain.calendar.deadlines import due_instant, reminder_schedule, reminder_schedule_for
from casemgmt.domain.decide.core import ALLOWED_WHEN_CLOSED, decide
from casemgmt.domain.errors import (
    DomainError,
    InvalidHistory,
    RegimeFileError,
    RuleViolation,
    UnknownRegime,
)
from casemgmt.domain.events import DERIVED_ONLY, EVENT_TYPES, AnyEvent
from casemgmt.domain.events.base import Event
from casemgmt.domain.regime.registry import Regime, RegimeRegistry, parse_regime
from casemgmt.domain.state.evolve import (
    AppealState,
    CaseState,
    DeadlineChange,
    DeadlineState,
    NoticeState,
    PenaltyState,
    evolve,
    fold,
)

__all__ = [
    "ALLOWED_WHEN_CLOSED",
    "CALENDAR_NAMES",
    "DERIVED_ONLY",
    "EVENT_TYPES",
    "AnyEvent",
    "AppealState",
    "BusinessCalendar",
    "CaseState",
    "DeadlineChange",
    "DeadlineState",
    "DomainError",
    "Event",
    "InvalidHistory",
    "NoticeState",
    "PenaltyState",
    "Regime",
    "RegimeFileError",
    "RegimeRegistry",
    "RuleViolation",
    "UnknownRegime",
    "decide",
    "due_instant",
    "evolve",
    "fold",
    "get_calendar",
    "parse_regime",
    "reminder_schedule",
    "reminder_schedule_for",
]
