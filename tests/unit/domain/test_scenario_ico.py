"""ICO, UK GDPR / DPA 2018: the seed (contact with X and xAI, then an investigation),
then notices with statutory windows and the notice-of-intent minimum period."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.domain import RuleViolation, fold
from casemgmt.domain.events import (
    ContactRecorded,
    InvestigationOpened,
    NoticeIssued,
    NoticeWithdrawn,
    PenaltyImposed,
)

from ._support import Case, open_case, tags

D = date


SEED_TODAY = D(2026, 2, 3)


def seed_case(today: date = SEED_TODAY) -> Case:
    """Contact with X and xAI by 7 Jan 2026; a formal investigation later (date illustrative)."""
    case = open_case("ico", "uk-gdpr", D(2026, 1, 7), today=today, related_parties=["xAI"])
    case.do(
        ContactRecorded(
            occurred_on=D(2026, 1, 7),
            direction="outbound",
            channel="letter",
            parties=["X Corp", "xAI"],
            summary="seeking clarity on measures to comply with UK data protection law",
        )
    )
    case.do(InvestigationOpened(occurred_on=D(2026, 2, 3), legal_basis="UK GDPR Art. 5, 6, 9"))
    return case


def test_the_seed_timeline_is_an_investigation_after_contact_with_x_and_xai() -> None:
    case = seed_case()
    assert case.s.stage == "investigation"
    assert case.s.related_parties == ("xAI",)
    assert case.s.contacts == 1
    assert fold(case.events) == case.s


def test_an_information_notice_sets_its_stated_date_and_a_28_day_appeal_window() -> None:
    case = seed_case(today=D(2026, 3, 10))
    out = case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 10),
            notice_id="in-1",
            notice_kind="information_notice",
            respond_by=D(2026, 4, 14),
        )
    )
    assert tags(out) == ["notice_issued", "deadline_set", "deadline_set"]
    assert case.deadline("information_response_due-in-1").due_on == D(2026, 4, 14)
    appeal = case.deadline("appeal_window-in-1")
    assert (appeal.due_on, appeal.rule) == (D(2026, 4, 7), "ico_information_notice_appeal")


def notice_of_intent(respond_by: date) -> NoticeIssued:
    return NoticeIssued(
        occurred_on=D(2026, 12, 10),
        notice_id="noi-1",
        notice_kind="notice_of_intent",
        respond_by=respond_by,
        proposed_penalty="5000000.00",
        currency="GBP",
    )


def test_a_notice_of_intent_gives_at_least_21_days_beginning_with_the_day_given() -> None:
    case = seed_case(today=D(2026, 12, 10))
    with pytest.raises(RuleViolation) as caught:
        case.do(notice_of_intent(D(2026, 12, 29)))
    assert caught.value.rule == "ico_representations_period"
    assert str(caught.value) == (
        "ico/uk-gdpr: notice_of_intent must allow at least 21 calendar_days beginning with "
        "2026-12-10 for representations_due (on or after 2026-12-30), not 2026-12-29"
    )
    case.do(notice_of_intent(D(2026, 12, 30)))
    assert case.deadline("representations_due-noi-1").due_on == D(2026, 12, 30)
    window = case.deadline("penalty_notice_due-noi-1")
    # six months *beginning with* Thu 10 Dec 2026 end the day before 10 Jun 2027 (para 2(2))
    assert (window.due_on, window.rule) == (D(2027, 6, 9), "ico_penalty_notice_window")
    assert case.s.stage == "provisional"


def test_a_penalty_notice_follows_the_representations_period_and_meets_the_6_month_window() -> None:
    case = seed_case(today=D(2027, 1, 4))
    case.do(notice_of_intent(D(2026, 12, 30)))
    penalty_notice = NoticeIssued(
        occurred_on=D(2026, 12, 21), notice_id="pn-1", notice_kind="penalty_notice"
    )
    with pytest.raises(RuleViolation, match="requires an earlier notice_of_intent whose"):
        case.do(penalty_notice)
    out = case.do(
        NoticeIssued(occurred_on=D(2027, 1, 4), notice_id="pn-1", notice_kind="penalty_notice")
    )
    assert tags(out) == ["notice_issued", "deadline_met", "deadline_set", "stage_changed"]
    assert case.deadline("penalty_notice_due-noi-1").status == "met"
    assert case.deadline("appeal_window-pn-1").due_on == D(2027, 2, 1)
    assert case.s.stage == "penalty"


def test_ico_cap_is_the_greater_of_17_5m_and_4_percent_or_the_standard_maximum() -> None:
    case = seed_case(today=D(2027, 1, 4))
    case.do(
        NoticeIssued(occurred_on=D(2026, 3, 2), notice_id="en-1", notice_kind="enforcement_notice")
    )
    big = PenaltyImposed(
        occurred_on=D(2027, 1, 4),
        amount="20000000.00",
        currency="GBP",
        basis="DPA 2018 s.155",
        revenue="400000000.00",
    )
    with pytest.raises(RuleViolation, match=r"above the cap of 17500000\.00 GBP") as caught:
        case.do(big)
    assert caught.value.rule == "ico_higher_maximum"
    with pytest.raises(RuleViolation, match=r"above the cap of 8700000\.00 GBP"):
        case.do(
            PenaltyImposed(
                **{**_fields(big), "amount": "9000000.00", "penalty_kind": "standard_maximum"}
            )
        )
    case.do(PenaltyImposed(**{**_fields(big), "revenue": "600000000.00"}))  # 4% = 24m
    assert case.s.penalties[0].amount == "20000000.00"


def test_withdrawing_a_notice_cancels_its_deadlines() -> None:
    case = seed_case(today=D(2026, 3, 11))
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 10),
            notice_id="in-1",
            notice_kind="information_notice",
            respond_by=D(2026, 4, 14),
        )
    )
    out = case.do(NoticeWithdrawn(occurred_on=D(2026, 3, 11), notice_id="in-1"))
    assert tags(out) == ["notice_withdrawn", "deadline_cancelled", "deadline_cancelled"]
    assert {d.status for d in case.s.deadlines} == {"cancelled"}
    assert case.s.notices[0].status == "withdrawn"


def _fields(event: PenaltyImposed) -> dict[str, object]:
    from msgspec.structs import asdict

    return asdict(event)
