"""Read-model rows, filters and pages (their ports, ``Projector`` and ``CaseQueries``,
are in ``application.ports``).

Projections are folded from events and can be dropped and rebuilt from the log. The
inline ones are applied in the append's own transaction (read-your-writes); each row
carries the case version it reflects, so applying the same events twice changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, TypeVar

import msgspec

from casemgmt.application.envelope import Envelope
from casemgmt.domain.calendar.explain import Explanation
from casemgmt.domain.state.evolve import CaseState

__all__ = [
    "CaseChange",
    "CaseFilter",
    "CaseRow",
    "CaseSummary",
    "DeadlineFilter",
    "DeadlineRow",
    "Page",
    "StageCount",
]

T = TypeVar("T")


class CaseChange(msgspec.Struct, frozen=True, kw_only=True):
    """One case's newly appended envelopes and its state after them."""

    case_id: str
    envelopes: list[Envelope]
    state: CaseState


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A case as the contract shows it in lists and as the head of its detail."""

    case_id: str
    regulator: str
    regime: str
    subject: str
    title: str
    reference: str | None
    stage: str
    status: str
    version: int
    opened_on: date
    last_event_at: datetime
    open_deadlines: int
    next_due_on: date | None
    related_parties: list[str] = []


class CaseRow(CaseSummary, frozen=True, kw_only=True):
    """A ``case_summary`` row: the summary plus its pagination key."""

    seq: int = 0


class DeadlineRow(msgspec.Struct, frozen=True, kw_only=True):
    deadline_id: str
    case_id: str
    regulator: str
    regime: str
    kind: str
    label: str
    due_on: date
    due_at: datetime
    status: str
    rule: str | None
    calendar: str
    timezone: str
    subject: str = ""
    title: str = ""
    explanation: Explanation | None = None


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    items: list[T]
    next_cursor: str | None


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str | None = None
    regime: str | None = None
    status: str | None = None
    stage: str | None = None
    subject: str | None = None
    q: str | None = None


class DeadlineFilter(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str | None = None
    case_id: str | None = None
    kind: str | None = None
    status: str | None = "open"
    due_before: date | None = None
    overdue_at: datetime | None = None


class StageCount(msgspec.Struct, frozen=True, kw_only=True):
    regulator: str
    regime: str
    stage: str
    open_cases: int
