"""Who must act, and which side we are on: parties, duties and windows (issue #10 items 1-2)."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.application.demo.timeline import WINDOW_KINDS
from casemgmt.domain import RegimeFileError, RuleViolation, parse_regime
from casemgmt.domain.events import (
    CaseClosed,
    DeadlineCancelled,
    DeadlineClosed,
    DeadlineMet,
    DeadlineMissed,
    DeadlineSet,
    InternalReviewRequested,
    ResponseSent,
)
from casemgmt.domain.events.fields import Period
from casemgmt.domain.parties import standing

from ._support import open_case, registry

D = date
TODAY = D(2026, 6, 1)


def foi(**fields: object):  # type: ignore[no-untyped-def]
    case = open_case("ofcom", "foi-2000", D(2026, 1, 7), TODAY, subject="Ofcom", **fields)
    case.do(
        ResponseSent(
            occurred_on=D(2026, 2, 4),
            outcome="partly_provided",
            exemptions=["s44(1)"],
            review_window=Period(amount=2, unit="months"),
        )
    )
    return case


def ofcom(**fields: object):  # type: ignore[no-untyped-def]
    case = open_case("ofcom", "osa-2023", D(2026, 1, 5), TODAY, **fields)
    case.do(
        DeadlineSet(
            occurred_on=D(2026, 1, 5),
            deadline_id="explain-1",
            kind="response_due",
            label="X to explain its measures",
            due_on=D(2026, 1, 9),
        )
    )
    return case


def test_every_deadline_kind_of_every_shipped_regime_names_its_party_and_obligation() -> None:
    for regime in registry().all():
        for kind in regime.rule_kinds():
            declared = regime.kind(kind)
            assert declared is not None, f"{regime.label()}: {kind}"
            assert declared.party in {"regulator", "subject", "requester", "tribunal"}
            assert declared.obligation in {"duty", "window"}


def test_the_foi_requesters_review_window_is_the_requesters_window_not_ofcoms_duty() -> None:
    case = foi()
    window = case.deadline("internal_review_window")
    response = case.deadline("response_due")
    assert (window.party, window.obligation) == ("requester", "window")
    assert (response.party, response.obligation, response.status) == ("regulator", "duty", "met")
    assert case.s.our_party == "regulator"


def test_a_window_cannot_be_marked_missed_it_closes_unused() -> None:
    case = foi()
    with pytest.raises(RuleViolation) as caught:
        case.do(DeadlineMissed(occurred_on=D(2026, 4, 6), deadline_id="internal_review_window"))
    assert caught.value.rule == "window_not_missable"
    assert case.deadline("internal_review_window").status == "open"
    case.do(DeadlineClosed(occurred_on=D(2026, 4, 6), deadline_id="internal_review_window"))
    window = case.deadline("internal_review_window")
    assert (window.status, window.closed_on) == ("closed", D(2026, 4, 6))


def test_a_window_closes_only_after_its_day_and_a_duty_is_never_closed() -> None:
    case = foi()
    with pytest.raises(RuleViolation) as caught:
        case.do(DeadlineClosed(occurred_on=D(2026, 4, 4), deadline_id="internal_review_window"))
    assert caught.value.rule == "deadline_not_yet_due"
    case = ofcom()
    with pytest.raises(RuleViolation) as caught:
        case.do(DeadlineClosed(occurred_on=D(2026, 2, 1), deadline_id="explain-1"))
    assert caught.value.rule == "duty_not_closable"
    assert case.deadline("explain-1").status == "open"


def test_using_a_window_meets_it() -> None:
    case = foi()
    case.do(InternalReviewRequested(occurred_on=D(2026, 3, 1)))
    assert case.deadline("internal_review_window").status == "met"
    review = case.deadline("internal_review_due")
    assert (review.party, review.obligation) == ("regulator", "duty")


def test_a_missed_duty_met_later_is_met_late_and_keeps_its_due_day() -> None:
    case = ofcom()
    case.do(DeadlineMissed(occurred_on=D(2026, 1, 12), deadline_id="explain-1"))
    case.do(DeadlineMet(occurred_on=D(2026, 1, 20), deadline_id="explain-1"))
    d = case.deadline("explain-1")
    assert (d.status, d.due_on, d.met_on, d.missed_on) == (
        "met_late",
        D(2026, 1, 9),
        D(2026, 1, 20),
        D(2026, 1, 12),
    )


def test_a_duty_met_after_its_day_before_the_worker_marked_it_is_met_late() -> None:
    case = ofcom()
    case.do(DeadlineMet(occurred_on=D(2026, 1, 10), deadline_id="explain-1"))
    assert case.deadline("explain-1").status == "met_late"
    on_time = ofcom()
    on_time.do(DeadlineMet(occurred_on=D(2026, 1, 9), deadline_id="explain-1"))
    assert on_time.deadline("explain-1").status == "met"


def test_waiving_a_missed_duty_needs_a_reason() -> None:
    case = ofcom()
    case.do(DeadlineMissed(occurred_on=D(2026, 1, 12), deadline_id="explain-1"))
    with pytest.raises(RuleViolation) as caught:
        case.do(DeadlineCancelled(occurred_on=D(2026, 1, 13), deadline_id="explain-1"))
    assert (caught.value.rule, caught.value.field) == ("waiver_reason_required", "reason")
    assert case.deadline("explain-1").status == "missed"
    case.do(
        DeadlineCancelled(
            occurred_on=D(2026, 1, 13), deadline_id="explain-1", reason="explanation not needed"
        )
    )
    assert case.deadline("explain-1").status == "cancelled"


def test_closing_the_case_resolves_its_missed_duties_too() -> None:
    case = ofcom()
    case.do(DeadlineMissed(occurred_on=D(2026, 1, 12), deadline_id="explain-1"))
    case.do(CaseClosed(occurred_on=D(2026, 2, 1)))
    assert case.deadline("explain-1").status == "cancelled"


def test_a_deadline_of_a_kind_the_regime_does_not_declare_must_name_its_party() -> None:
    case = ofcom()
    custom = DeadlineSet(
        occurred_on=D(2026, 1, 6), deadline_id="call-1", kind="call_back", label="l", due_on=TODAY
    )
    with pytest.raises(RuleViolation) as caught:
        case.do(custom)
    assert (caught.value.rule, caught.value.field) == ("deadline_party_required", "party")
    assert case.s.deadline("call-1") is None
    case.do(DeadlineSet(**{**_fields(custom), "party": "regulator", "obligation": "duty"}))
    assert case.deadline("call-1").party == "regulator"


def test_a_declared_kind_means_one_thing() -> None:
    case = ofcom()
    with pytest.raises(RuleViolation) as caught:
        case.do(
            DeadlineSet(
                occurred_on=D(2026, 1, 6),
                deadline_id="explain-2",
                kind="response_due",
                label="l",
                due_on=TODAY,
                party="regulator",
            )
        )
    assert (caught.value.rule, caught.value.field) == ("deadline_kind_party_mismatch", "party")


def test_our_party_defaults_to_the_regulator_and_may_be_the_subject() -> None:
    assert ofcom().s.our_party == "regulator"
    assert ofcom(our_party="subject").s.our_party == "subject"


def test_our_party_must_have_a_part_in_the_procedure() -> None:
    with pytest.raises(RuleViolation) as caught:
        ofcom(our_party="requester")
    assert (caught.value.rule, caught.value.field) == ("our_party_not_in_regime", "our_party")
    assert foi(our_party="requester").s.our_party == "requester"


@pytest.mark.parametrize(
    ("ours", "obligation", "status", "past_due", "expected"),
    [
        (True, "duty", "missed", True, "breach"),
        (True, "duty", "open", True, "breach"),
        (True, "duty", "open", False, "due"),
        (True, "window", "open", False, "closing"),
        (True, "window", "closed", True, "lost_right"),
        (False, "duty", "missed", True, "their_overdue"),
        (False, "duty", "open", True, "their_overdue"),
        (False, "duty", "open", False, "theirs"),
        (False, "window", "open", False, "theirs"),
        (False, "window", "closed", True, "done"),
        (True, "duty", "met_late", True, "done"),
        (True, "duty", "cancelled", True, "done"),
    ],
)
def test_standing_of_a_deadline_from_our_side(
    ours: bool, obligation: str, status: str, past_due: bool, expected: str
) -> None:
    assert standing(ours, obligation, status, past_due) == expected


def test_an_unknown_party_in_a_regime_file_names_the_file_and_key() -> None:
    text = _minimal_regime('response_due = { party = "ombudsman", obligation = "duty" }')
    with pytest.raises(RegimeFileError) as caught:
        parse_regime(text, "mine.toml")
    assert "mine.toml" in str(caught.value)
    assert "deadline_kinds.response_due.party" in str(caught.value)


def test_a_rule_kind_without_a_declaration_names_the_file_and_key() -> None:
    with pytest.raises(RegimeFileError) as caught:
        parse_regime(_minimal_regime(""), "mine.toml")
    assert "mine.toml: deadline_rules[0].kind" in str(caught.value)


def _fields(event: DeadlineSet) -> dict[str, object]:
    return {f: getattr(event, f) for f in event.__struct_fields__}


def _minimal_regime(kinds: str) -> str:
    return f"""
regulator = "mine"
regulator_name = "Mine"
code = "mine"
law = "Mine Act"
timezone = "Europe/London"
calendar = "calendar-days"
initial_stage = "opened"

[[stages]]
code = "opened"
name = "Opened"

[deadline_kinds]
{kinds}

[[deadline_rules]]
id = "mine_response"
on = "case_opened"
kind = "response_due"
label = "Respond"
amount = 5
unit = "calendar_days"
"""


def test_the_demo_closes_exactly_the_kinds_the_shipped_regimes_declare_windows() -> None:
    declared = {
        code
        for regime in registry().all()
        for code, kind in regime.deadline_kinds.items()
        if kind.obligation == "window"
    }
    assert declared == WINDOW_KINDS
