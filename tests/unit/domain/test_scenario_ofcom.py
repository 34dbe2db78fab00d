"""Ofcom, Online Safety Act 2023: the X / Grok seed timeline, then the enforcement path."""

from __future__ import annotations

from datetime import date

import pytest
from msgspec.structs import replace

from casemgmt.domain import RuleViolation, fold
from casemgmt.domain.events import (
    AppealLodged,
    AssessmentStarted,
    ContactRecorded,
    DeadlineMet,
    DeadlineSet,
    InvestigationOpened,
    NoticeIssued,
    PenaltyImposed,
    PenaltyPaid,
    RepresentationsReceived,
)

from ._support import Case, open_case, tags

D = date


def seed_case() -> Case:
    """Urgent contact Mon 5 Jan 2026 with a deadline (met), urgent assessment, investigation."""
    case = open_case(
        "ofcom", "osa-2023", D(2026, 1, 5), today=D(2026, 2, 4), related_parties=["xAI"]
    )
    case.do(
        ContactRecorded(
            occurred_on=D(2026, 1, 5),
            direction="outbound",
            channel="email",
            urgent=True,
            parties=["X Corp"],
            summary="urgent contact about Grok images",
        )
    )
    case.do(
        DeadlineSet(
            occurred_on=D(2026, 1, 5),
            deadline_id="explain-1",
            kind="response_due",
            label="X to explain its measures",
            due_on=D(2026, 1, 9),
        )
    )
    case.do(AssessmentStarted(occurred_on=D(2026, 1, 6), urgent=True))
    case.do(DeadlineMet(occurred_on=D(2026, 1, 9), deadline_id="explain-1"))
    case.do(
        InvestigationOpened(
            occurred_on=D(2026, 1, 12), legal_basis="OSA 2023 illegal content duties"
        )
    )
    return case


def test_the_seed_timeline_leaves_an_open_investigation_with_no_notice_or_penalty() -> None:
    case = seed_case()
    s = case.s
    assert (s.regulator, s.regime, s.stage, s.status) == (
        "ofcom",
        "osa-2023",
        "investigation",
        "open",
    )
    assert (s.timezone, s.calendar) == ("Europe/London", "england-and-wales")
    assert s.investigation_open
    assert s.contacts == 1
    explain = case.deadline("explain-1")
    assert (explain.status, explain.met_on, explain.rule) == ("met", D(2026, 1, 9), None)
    assert s.notices == ()
    assert s.penalties == ()
    assert fold(case.events) == s


def test_the_seed_stages_follow_the_regime_transitions() -> None:
    case = seed_case()
    stages = [e.stage for e in case.events if e.type_tag() == "stage_changed"]  # type: ignore[attr-defined]
    assert stages == ["contact", "assessment", "investigation"]


REPRESENTATIONS_BY = D(2026, 3, 30)


def issue_provisional(case: Case, respond_by: date = REPRESENTATIONS_BY) -> None:
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 2),
            notice_id="pnc-1",
            notice_kind="provisional_notice_of_contravention",
            respond_by=respond_by,
            duty="illegal content duties (s.10)",
            proposed_penalty="18000000.00",
            currency="GBP",
        )
    )


def test_a_provisional_notice_sets_the_representations_deadline_it_states() -> None:
    case = seed_case()
    case.today = D(2026, 3, 2)
    issue_provisional(case)
    reps = case.deadline("representations_due-pnc-1")
    assert (reps.due_on, reps.rule, reps.notice_id) == (
        D(2026, 3, 30),
        "ofcom_representations_period",
        "pnc-1",
    )
    assert case.s.stage == "provisional"


def test_a_confirmation_decision_waits_for_the_representations_period() -> None:
    case = seed_case()
    case.today = D(2026, 3, 20)
    issue_provisional(case)
    early = NoticeIssued(
        occurred_on=D(2026, 3, 20), notice_id="cd-1", notice_kind="confirmation_decision"
    )
    with pytest.raises(RuleViolation) as caught:
        case.do(early)
    assert caught.value.rule == "confirmation_requires_provisional_notice"
    assert str(caught.value) == (
        "ofcom/osa-2023: confirmation_decision requires an earlier "
        "provisional_notice_of_contravention whose representations_due period has expired "
        "(early representations do not shorten it)"
    )
    case.today = D(2026, 3, 27)
    out = case.do(RepresentationsReceived(occurred_on=D(2026, 3, 27), notice_id="pnc-1"))
    assert tags(out) == ["representations_received", "deadline_met"]
    case.today = D(2026, 5, 1)
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 5, 1),
            notice_id="cd-1",
            notice_kind="confirmation_decision",
            respond_by=D(2026, 6, 1),
        )
    )
    assert case.s.stage == "decision"
    assert case.deadline("compliance_due-cd-1").due_on == D(2026, 6, 1)


def test_penalty_cap_is_the_greater_of_18m_and_10_percent_of_qwr() -> None:
    case = seed_case()
    case.today = D(2026, 6, 1)
    issue_provisional(case)
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 4, 1), notice_id="cd-1", notice_kind="confirmation_decision"
        )
    )

    def penalty(amount: str, revenue: str | None = None) -> PenaltyImposed:
        return PenaltyImposed(
            occurred_on=D(2026, 6, 1),
            amount=amount,
            currency="GBP",
            basis="OSA s.137",
            revenue=revenue,
            payable_by=D(2026, 7, 1),
        )

    with pytest.raises(RuleViolation, match=r"above the cap of 20000000\.00 GBP") as caught:
        case.do(penalty("20000000.01", revenue="200000000.00"))
    assert caught.value.rule == "ofcom_penalty_cap"
    with pytest.raises(RuleViolation, match=r"above the cap of 18000000\.00 GBP"):
        case.do(penalty("18000000.01", revenue="1000000.00"))
    out = case.do(penalty("18000000.00"))  # QWR unknown: no cap check beyond the fixed floor
    assert tags(out) == ["penalty_imposed", "deadline_set", "stage_changed"]
    assert case.s.penalties[0].penalty_id == "penalty-1"
    assert case.deadline("penalty_payable-penalty-1").due_on == D(2026, 7, 1)
    out = case.do(PenaltyPaid(occurred_on=D(2026, 6, 1)))
    assert tags(out) == ["penalty_paid", "deadline_met"]
    assert case.s.penalties[0].paid
    case.do(AppealLodged(occurred_on=D(2026, 6, 1), forum="Upper Tribunal", against="cd-1"))
    assert case.s.stage == "appeal"
    assert case.s.appeals[0].appeal_id == "appeal-1"


def test_business_disruption_orders_record_the_court_application_date() -> None:
    case = seed_case()
    order = NoticeIssued(
        occurred_on=D(2026, 1, 20),
        notice_id="bdo-1",
        notice_kind="interim_service_restriction_order",
    )
    with pytest.raises(RuleViolation, match="court_application_on") as caught:
        case.do(order)
    assert caught.value.rule == "court_application_date_required"
    case.do(replace(order, court_application_on=D(2026, 1, 20)))
    assert case.s.notices[0].court_application_on == D(2026, 1, 20)
