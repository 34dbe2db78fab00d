"""A demo case as data: how it was opened and what happened to it next, in order."""

from __future__ import annotations

from datetime import date

import msgspec

from casemgmt.application.ids import derived_event_id
from casemgmt.domain.events import CaseOpened
from casemgmt.domain.events.base import Event

__all__ = ["DemoCase", "step_event_id"]


class DemoCase(msgspec.Struct, frozen=True, kw_only=True):
    """One case of the demo: ``opened``, then ``steps`` recorded in this order.

    ``steps`` are the events a person or an integration would post; the regime derives the
    rest (stage changes, statutory deadlines) when they are recorded. ``synthetic`` marks
    an invented case (the seed cases are the ones from the source documents).
    """

    opened: CaseOpened
    steps: tuple[Event, ...] = ()
    synthetic: bool = False

    @property
    def case_id(self) -> str:
        return self.opened.case_id

    @property
    def last_day(self) -> date:
        """The latest day anything in this case occurred (the loader's clock must be past it)."""
        days = [self.opened.opened_on, *(e.occurred_on for e in self.steps)]
        if self.opened.received_on is not None:
            days.append(self.opened.received_on)
        return max(days)


def step_event_id(case_id: str, index: int, event: Event) -> str:
    """The stable id of the ``index``-th step of a demo case: the same step, the same id."""
    return derived_event_id("demo", case_id, str(index), event.type_tag())
