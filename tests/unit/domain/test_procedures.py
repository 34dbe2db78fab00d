"""The missing procedure (issue #10 item 5; REFERENCE §1-§3): Upper Tribunal appeals,
penalty notices after their prerequisites, daily penalties, and the periods a regulator
must allow. Each refusal names its rule and writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from casemgmt.domain.events import (
    AppealLodged,
    DeadlineMet,
    InvestigationOpened,
    NoticeIssued,
    PenaltyImposed,
    RepresentationsReceived,
)
from casemgmt.domain.events.fields import Period
from casemgmt.domain.state.penalties import accrual

from ._support import Case, open_case, refused, tags

D = date
LATER = D(2027, 6, 30)
REPRESENTATIONS_BY = D(2026, 3, 30)


def ofcom_provisional(respond_by: date = REPRESENTATIONS_BY) -> Case:
    case = open_case("ofcom", "osa-2023", D(2026, 1, 5), today=LATER)
    case.do(InvestigationOpened(occurred_on=D(2026, 1, 12), legal_basis="OSA 2023"))
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 2),
            notice_id="pnc-1",
            notice_kind="provisional_notice_of_contravention",
            respond_by=respond_by,
        )
    )
    return case


def decision(on: date, **fields: object) -> NoticeIssued:
    return NoticeIssued(
        occurred_on=on, notice_id="cd-1", notice_kind="confirmation_decision", **fields
    )  # type: ignore[arg-type]


def test_early_representations_do_not_shorten_the_representations_period() -> None:
    case = ofcom_provisional()
    case.do(RepresentationsReceived(occurred_on=D(2026, 3, 10), notice_id="pnc-1"))
    assert case.deadline("representations_due-pnc-1").status == "met"
    message = refused(
        case, decision(D(2026, 3, 30)), "confirmation_requires_provisional_notice", "notice_kind"
    )
    assert "representations_due period has expired" in message
    case.do(decision(D(2026, 3, 31), respond_by=D(2026, 5, 29)))
    assert case.s.stage == "decision"


def test_a_confirmation_decision_opens_a_one_month_upper_tribunal_appeal_window() -> None:
    case = ofcom_provisional(respond_by=D(2026, 3, 20))
    out = case.do(decision(D(2026, 3, 25), respond_by=D(2026, 5, 29)))
    assert tags(out) == ["notice_issued", "deadline_set", "deadline_set", "stage_changed"]
    window = case.deadline("appeal_window-cd-1")
    # one month after Wed 25 Mar 2026 is Sat 25 Apr: the Tribunal takes it on Mon 27 Apr
    assert (window.due_on, window.rule) == (D(2026, 4, 27), "ofcom_confirmation_decision_appeal")
    assert (window.party, window.obligation) == ("subject", "window")


def test_the_appellant_may_store_the_appeal_date_it_reckons() -> None:
    case = ofcom_provisional(respond_by=D(2026, 3, 20))
    case.do(decision(D(2026, 3, 25), appeal_by=D(2026, 4, 30)))
    assert case.deadline("appeal_window-cd-1").due_on == D(2026, 4, 30)


def test_an_appeal_against_the_decision_uses_its_appeal_window() -> None:
    case = ofcom_provisional(respond_by=D(2026, 3, 20))
    case.do(decision(D(2026, 3, 25)))
    out = case.do(AppealLodged(occurred_on=D(2026, 4, 20), against="cd-1", forum="Upper Tribunal"))
    assert tags(out) == ["appeal_lodged", "deadline_met", "stage_changed"]
    assert case.deadline("appeal_window-cd-1").status == "met"


def test_an_ofcom_penalty_notice_needs_a_confirmation_decision() -> None:
    case = ofcom_provisional(respond_by=D(2026, 3, 20))
    notice = NoticeIssued(occurred_on=D(2026, 4, 1), notice_id="pn-1", notice_kind="penalty_notice")
    message = refused(case, notice, "penalty_notice_requires_confirmation_decision")
    assert message == ("ofcom/osa-2023: penalty_notice requires an earlier confirmation_decision")
    case.do(decision(D(2026, 3, 25), respond_by=D(2026, 4, 24)))
    case.do(NoticeIssued(occurred_on=D(2026, 6, 1), notice_id="pn-1", notice_kind="penalty_notice"))
    assert case.s.stage == "penalty"
    assert case.deadline("appeal_window-pn-1").due_on == D(2026, 7, 1)


def daily(case: Case, **fields: object) -> PenaltyImposed:
    values: dict[str, object] = {
        "occurred_on": D(2026, 3, 25),
        "amount": "1000000.00",
        "currency": "GBP",
        "basis": "OSA 2023 s.137",
        "notice_id": "cd-1",
        "daily_rate": "100.00",
        "daily_from": D(2026, 5, 1),
        "daily_max_days": 60,
        "daily_until": "compliance_due-cd-1",
    }
    values.update(fields)
    return PenaltyImposed(**values)  # type: ignore[arg-type]


def with_daily_penalty() -> Case:
    case = ofcom_provisional(respond_by=D(2026, 3, 20))
    case.do(decision(D(2026, 3, 25), respond_by=D(2026, 4, 30)))
    case.do(daily(case))
    return case


def test_a_daily_penalty_accrues_from_its_start_day_up_to_its_cap_of_days() -> None:
    case = with_daily_penalty()
    [penalty] = case.s.penalties
    assert accrual(case.s, penalty, D(2026, 4, 30)).days == 0  # type: ignore[union-attr]
    ten = accrual(case.s, penalty, D(2026, 5, 10))
    assert ten is not None
    assert (ten.days, ten.amount, ten.total, ten.stopped_by) == (
        10,
        Decimal("1000.00"),
        Decimal("1001000.00"),
        None,
    )
    capped = accrual(case.s, penalty, D(2026, 12, 31))
    assert capped is not None
    assert (capped.days, capped.amount, capped.ends_on, capped.stopped_by) == (
        60,
        Decimal("6000.00"),
        D(2026, 6, 29),
        "cap",
    )


def test_a_daily_penalty_stops_accruing_on_compliance() -> None:
    case = with_daily_penalty()
    case.do(DeadlineMet(occurred_on=D(2026, 5, 21), deadline_id="compliance_due-cd-1"))
    stopped = accrual(case.s, case.s.penalties[0], D(2026, 12, 31))
    assert stopped is not None
    assert (stopped.days, stopped.amount, stopped.ends_on, stopped.stopped_by) == (
        20,
        Decimal("2000.00"),
        D(2026, 5, 20),
        "compliance",
    )


def test_a_daily_penalty_states_rate_start_and_cap_together() -> None:
    case = ofcom_provisional(respond_by=D(2026, 3, 20))
    case.do(decision(D(2026, 3, 25), respond_by=D(2026, 4, 30)))
    refused(case, daily(case, daily_max_days=None), "daily_penalty_incomplete", "daily_rate")
    refused(case, daily(case, daily_until="nope"), "unknown_deadline", "daily_until")


def ico_case(today: date = LATER) -> Case:
    case = open_case("ico", "uk-gdpr", D(2026, 1, 7), today=today)
    case.do(InvestigationOpened(occurred_on=D(2026, 2, 3), legal_basis="UK GDPR"))
    return case


def test_the_ico_has_no_daily_penalties() -> None:
    case = ico_case()
    case.do(
        NoticeIssued(occurred_on=D(2026, 3, 2), notice_id="en-1", notice_kind="enforcement_notice")
    )
    fine = daily(case, currency="GBP", notice_id=None, daily_until=None)
    refused(case, fine, "daily_rate_not_allowed", "daily_rate")


def test_an_ico_penalty_notice_waits_for_the_end_of_the_representations_period() -> None:
    case = ico_case()
    penalty_notice = NoticeIssued(
        occurred_on=D(2026, 4, 1), notice_id="pn-1", notice_kind="penalty_notice"
    )
    message = refused(case, penalty_notice, "penalty_notice_requires_notice_of_intent")
    assert message == "ico/uk-gdpr: penalty_notice requires an earlier notice_of_intent"
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 2),
            notice_id="noi-1",
            notice_kind="notice_of_intent",
            respond_by=D(2026, 4, 1),
        )
    )
    case.do(RepresentationsReceived(occurred_on=D(2026, 3, 20), notice_id="noi-1"))
    refused(case, penalty_notice, "penalty_notice_requires_notice_of_intent", "notice_kind")
    out = case.do(
        NoticeIssued(occurred_on=D(2026, 4, 2), notice_id="pn-1", notice_kind="penalty_notice")
    )
    assert "deadline_met" in tags(out)  # the six-month window: given in time


def test_an_ico_pay_by_date_allows_28_days_beginning_with_the_penalty_notice() -> None:
    case = ico_case()
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 2),
            notice_id="noi-1",
            notice_kind="notice_of_intent",
            respond_by=D(2026, 3, 23),
        )
    )
    case.do(NoticeIssued(occurred_on=D(2026, 4, 1), notice_id="pn-1", notice_kind="penalty_notice"))

    def fine(payable_by: date) -> PenaltyImposed:
        return PenaltyImposed(
            occurred_on=D(2026, 4, 3),  # recorded two days after the notice was given
            amount="1000.00",
            currency="GBP",
            basis="DPA 2018 s.155",
            notice_id="pn-1",
            payable_by=payable_by,
        )

    message = refused(case, fine(D(2026, 4, 27)), "ico_penalty_payable", "payable_by")
    assert "at least 28 calendar_days beginning with 2026-04-01" in message
    assert "(on or after 2026-04-28)" in message
    case.do(fine(D(2026, 4, 28)))


def test_an_ico_information_notice_may_not_end_before_its_appeal_period_unless_urgent() -> None:
    case = ico_case()
    notice = NoticeIssued(
        occurred_on=D(2026, 3, 10),
        notice_id="in-1",
        notice_kind="information_notice",
        respond_by=D(2026, 3, 24),
    )
    message = refused(case, notice, "ico_information_notice_response", "respond_by")
    assert message == (
        "ico/uk-gdpr: information_notice's information_response_due (2026-03-24) may not end "
        "before its appeal_window (2026-04-07) unless it says it is urgent"
    )
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 10),
            notice_id="in-1",
            notice_kind="information_notice",
            respond_by=D(2026, 3, 24),
            urgent=True,
        )
    )
    assert case.deadline("information_response_due-in-1").due_on == D(2026, 3, 24)


def dsa_investigation() -> Case:
    case = open_case("eu-commission", "dsa", D(2026, 1, 7), today=LATER)
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 3, 2), notice_id="proc-1", notice_kind="proceedings_opened"
        )
    )
    return case


def test_dsa_preliminary_findings_allow_at_least_14_days_for_observations() -> None:
    case = dsa_investigation()

    def findings(**fields: object) -> NoticeIssued:
        return NoticeIssued(
            occurred_on=D(2026, 12, 3), notice_id="pf-1", notice_kind="preliminary_findings",
            **fields,
        )  # type: ignore[arg-type]  # fmt: skip

    message = refused(
        case,
        findings(period=Period(amount=13, unit="calendar_days")),
        "dsa_observations_period",
        "period",
    )
    assert "at least 14 calendar_days after 2026-12-03 for observations_due" in message
    refused(case, findings(respond_by=D(2026, 12, 16)), "dsa_observations_period", "respond_by")
    # REFERENCE §3: notified Thu 3 Dec 2026 -> Thu 17 Dec 2026
    case.do(findings(period=Period(amount=14, unit="calendar_days")))
    assert case.deadline("observations_due-pf-1").due_on == D(2026, 12, 17)
