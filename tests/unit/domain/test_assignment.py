"""``case_assigned``: a case is given to a person; the state and every regime follow."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from casemgmt.domain.events import AnyEvent, CaseAssigned, CaseClosed, NoteAdded

from ._support import open_case, refused, registry

D = date


def test_assigning_names_the_person_and_reassigning_replaces_them() -> None:
    case = open_case("ofcom", "osa-2023", D(2026, 1, 5), D(2026, 1, 20))
    assert case.s.assignee is None

    out = case.do(CaseAssigned(occurred_on=D(2026, 1, 6), assignee="alice", note="lead"))
    assert [e.type_tag() for e in out] == ["case_assigned"]
    assert case.s.assignee == "alice"
    case.do(CaseAssigned(occurred_on=D(2026, 1, 7), assignee="bob@ofcom.example"))
    assert case.s.assignee == "bob@ofcom.example"
    assert case.s.stage == "opened"  # assignment is no step of the procedure


def test_assigning_to_the_person_who_has_the_case_is_refused_naming_the_field() -> None:
    case = open_case("ico", "uk-gdpr", D(2026, 1, 5), D(2026, 1, 20))
    case.do(CaseAssigned(occurred_on=D(2026, 1, 6), assignee="alice"))
    message = refused(
        case,
        CaseAssigned(occurred_on=D(2026, 1, 7), assignee="alice"),
        "already_assigned",
        "assignee",
    )
    assert message == "ico/uk-gdpr: the case is already assigned to 'alice'"


def test_a_closed_case_is_not_assigned() -> None:
    case = open_case("ofcom", "osa-2023", D(2026, 1, 5), D(2026, 1, 20))
    case.do(CaseClosed(occurred_on=D(2026, 1, 8)))
    refused(case, CaseAssigned(occurred_on=D(2026, 1, 9), assignee="alice"), "case_closed")
    case.do(NoteAdded(occurred_on=D(2026, 1, 9), text="notes still allowed"))


@pytest.mark.parametrize("regime", registry().all(), ids=lambda r: r.label())
def test_every_shipped_regime_allows_assignment_in_every_stage(regime) -> None:  # type: ignore[no-untyped-def]
    for stage in regime.stages:
        assert regime.allows(stage.code, "case_assigned"), (regime.label(), stage.code)


@pytest.mark.parametrize(
    ("assignee", "where"),
    [("", "$.assignee"), ("al ice", "$.assignee"), ("x" * 121, "$.assignee")],
)
def test_a_malformed_assignee_fails_at_decode_naming_the_field(assignee: str, where: str) -> None:
    body = {"type": "case_assigned", "occurred_on": "2026-01-06", "assignee": assignee}
    with pytest.raises(msgspec.ValidationError, match=f"at `\\{where}`"):
        msgspec.convert(body, AnyEvent)
