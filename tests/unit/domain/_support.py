"""Helpers for domain tests: the shipped regimes and a case driven through decide/evolve."""

from __future__ import annotations

from datetime import date
from functools import cache

from casemgmt.adapters.regime_files import load_registry
from casemgmt.domain import CaseState, Event, Regime, RegimeRegistry, decide, evolve
from casemgmt.domain.events import CaseOpened


@cache
def registry() -> RegimeRegistry:
    return load_registry()


def regime(regulator: str, code: str) -> Regime:
    return registry().get(regulator, code)


def opened(regulator: str, code: str, on: date, **fields: object) -> CaseOpened:
    values: dict[str, object] = {
        "case_id": f"{regulator}-{code}-1",
        "subject": "X Corp",
        "title": "Grok image generation",
        "opened_on": on,
    }
    values.update(fields)
    return CaseOpened(occurred_on=on, regulator=regulator, regime=code, **values)  # type: ignore[arg-type]


class Case:
    """A case under ``regime``: ``do`` decides an action and applies what it returns."""

    def __init__(self, regime: Regime, today: date) -> None:
        self.regime = regime
        self.today = today
        self.state: CaseState | None = None
        self.events: list[Event] = []

    def do(self, action: Event, today: date | None = None) -> list[Event]:
        out = decide(self.state, action, self.regime, today or self.today)
        for event in out:
            self.state = evolve(self.state, event)
        self.events.extend(out)
        return out

    @property
    def s(self) -> CaseState:
        assert self.state is not None
        return self.state

    def deadline(self, deadline_id: str):  # type: ignore[no-untyped-def]
        found = self.s.deadline(deadline_id)
        assert found is not None, (
            f"no deadline {deadline_id}: {[d.deadline_id for d in self.s.deadlines]}"
        )
        return found


def tags(events: list[Event]) -> list[str]:
    return [e.type_tag() for e in events]


def open_case(regulator: str, code: str, on: date, today: date, **fields: object) -> Case:
    case = Case(regime(regulator, code), today)
    case.do(opened(regulator, code, on, **fields))
    return case


def refused(case: Case, action: Event, rule: str, field: str | None = None, **kw: date) -> str:
    """Assert ``action`` is refused under ``rule`` (naming ``field``) and nothing was written;
    returns the message."""
    import pytest

    from casemgmt.domain import RuleViolation

    before, written = case.state, len(case.events)
    with pytest.raises(RuleViolation) as caught:
        case.do(action, **kw)
    assert caught.value.rule == rule, f"{caught.value.rule}: {caught.value}"
    if field is not None:
        assert caught.value.field == field, caught.value.field
    assert case.state is before
    assert len(case.events) == written
    return str(caught.value)
