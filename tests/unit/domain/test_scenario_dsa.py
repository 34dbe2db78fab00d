"""European Commission, Digital Services Act: the January 2026 retention order, then
requests whose periods roll past weekends and Commission holidays (Reg. 1182/71)."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.domain import RuleViolation, fold
from casemgmt.domain.events import NoticeIssued, PenaltyImposed
from casemgmt.domain.events.fields import Period

from ._support import Case, open_case

D = date


SEED_TODAY = D(2026, 1, 31)


def seed_case(today: date = SEED_TODAY) -> Case:
    """The Commission ordered X to retain all documents relating to Grok (January 2026)."""
    case = open_case("eu-commission", "dsa", D(2026, 1, 7), today=today, title="X: Grok")
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 1, 7),
            notice_id="retention-1",
            notice_kind="retention_order",
            summary="retain all internal documents and data relating to Grok",
            respond_by=D(2026, 12, 31),
        )
    )
    return case


def test_the_seed_retention_order_is_a_notice_with_its_retention_period() -> None:
    case = seed_case()
    s = case.s
    assert (s.timezone, s.calendar, s.stage) == ("Europe/Brussels", "eu-commission", "opened")
    assert [(n.notice_id, n.kind) for n in s.notices] == [("retention-1", "retention_order")]
    ends = case.deadline("retention_ends-retention-1")
    assert (ends.due_on, ends.rule) == (D(2026, 12, 31), "dsa_retention_period")
    assert ends.due_at.isoformat() == "2026-12-31T22:59:59+00:00"
    assert fold(case.events) == s


def test_a_request_for_information_must_set_its_deadline() -> None:
    case = seed_case()
    with pytest.raises(RuleViolation) as caught:
        case.do(
            NoticeIssued(
                occurred_on=D(2026, 1, 20), notice_id="rfi-1", notice_kind="request_for_information"
            )
        )
    assert caught.value.rule == "dsa_information_request_response"
    assert "the law leaves the information_response_due period to the notice" in str(caught.value)


def test_a_period_ending_in_the_commission_christmas_closure_rolls_to_the_next_working_day() -> (
    None
):
    case = seed_case(today=D(2026, 12, 18))
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 12, 18),
            notice_id="rfi-2",
            notice_kind="request_for_information",
            period=Period(amount=10, unit="calendar_days"),
        )
    )
    # 10 days end Mon 28 Dec 2026: Commission holidays to 1 Jan, then a weekend
    assert case.deadline("information_response_due-rfi-2").due_on == D(2027, 1, 4)


def test_a_stated_date_is_kept_even_on_a_holiday() -> None:
    case = seed_case(today=D(2026, 4, 20))
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 4, 20),
            notice_id="rfi-3",
            notice_kind="request_for_information",
            respond_by=D(2026, 5, 1),
        )
    )
    assert case.deadline("information_response_due-rfi-3").due_on == D(2026, 5, 1)


def test_dsa_fines_are_capped_at_6_percent_of_turnover_in_euro() -> None:
    case = seed_case(today=D(2026, 12, 1))
    for notice_id, kind, on in (
        ("proc-1", "proceedings_opened", D(2026, 3, 2)),
        ("pf-1", "preliminary_findings", D(2026, 6, 1)),
        ("ncd-1", "non_compliance_decision", D(2026, 9, 1)),
    ):
        period = Period(amount=30, unit="calendar_days") if kind == "preliminary_findings" else None
        case.do(NoticeIssued(occurred_on=on, notice_id=notice_id, notice_kind=kind, period=period))
    assert case.s.stage == "decision"
    fine = PenaltyImposed(
        occurred_on=D(2026, 12, 1),
        amount="700000000.00",
        currency="EUR",
        basis="DSA Art. 74",
        penalty_kind="fine",
        revenue="10000000000.00",
    )
    with pytest.raises(RuleViolation, match=r"above the cap of 600000000\.00 EUR") as caught:
        case.do(fine)
    assert caught.value.rule == "dsa_fine_cap"
    with pytest.raises(RuleViolation, match="penalties are in EUR, not GBP"):
        case.do(
            PenaltyImposed(occurred_on=D(2026, 12, 1), amount="1.00", currency="GBP", basis="x")
        )
