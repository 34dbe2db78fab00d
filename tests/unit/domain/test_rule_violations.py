"""Every refusal of ``decide``: the rule id, the regime label and a message that says why."""

from __future__ import annotations

from datetime import date

import pytest

from casemgmt.domain import Event, RuleViolation, decide
from casemgmt.domain.events import (
    CaseClosed,
    ContactRecorded,
    DeadlineCancelled,
    DeadlineExtended,
    DeadlineMet,
    DeadlineMissed,
    DeadlineSet,
    InvestigationOpened,
    NoteAdded,
    NoticeIssued,
    PenaltyImposed,
    PenaltyPaid,
    ReminderSent,
    RepresentationsReceived,
    StageChanged,
)
from casemgmt.domain.events.fields import Period

from ._support import Case, open_case, opened, regime, tags

D = date
TODAY = D(2026, 2, 4)


def ofcom_case() -> Case:
    """An Ofcom case under investigation with an open deadline ``explain-1`` due 9 Feb."""
    case = open_case("ofcom", "osa-2023", D(2026, 1, 5), today=TODAY)
    case.do(
        DeadlineSet(
            occurred_on=D(2026, 1, 5),
            deadline_id="explain-1",
            kind="response_due",
            label="X to explain its measures",
            due_on=D(2026, 2, 9),
        )
    )
    case.do(InvestigationOpened(occurred_on=D(2026, 1, 12), legal_basis="OSA 2023"))
    return case


def notice(kind: str, **fields: object) -> NoticeIssued:
    return NoticeIssued(occurred_on=TODAY, notice_id="n-1", notice_kind=kind, **fields)  # type: ignore[arg-type]


VIOLATIONS: list[tuple[str, Event, str, str]] = [
    (
        "action the stage does not allow",
        PenaltyPaid(occurred_on=TODAY),
        "action_not_allowed_in_stage",
        "penalty_paid is not allowed in stage 'investigation'",
    ),
    (
        "unknown deadline id",
        DeadlineMet(occurred_on=TODAY, deadline_id="explain-2"),
        "unknown_deadline",
        "no deadline 'explain-2' on this case",
    ),
    (
        "deadline id already used",
        DeadlineSet(occurred_on=TODAY, deadline_id="explain-1", kind="k", label="l", due_on=TODAY),
        "duplicate_deadline_id",
        "deadline 'explain-1' already exists",
    ),
    (
        "notice kind the regime does not have",
        notice("enforcement_notice"),
        "unknown_notice_kind",
        "osa-2023 has no notice kind 'enforcement_notice' (known: information_notice, "
        "provisional_notice_of_contravention, confirmation_decision, penalty_notice, "
        "service_restriction_order, interim_service_restriction_order, access_restriction_order, "
        "interim_access_restriction_order)",
    ),
    (
        "notice whose law leaves the period to it, stating none",
        notice("provisional_notice_of_contravention"),
        "ofcom_representations_period",
        "provisional_notice_of_contravention must state respond_by or a period: the law "
        "leaves the representations_due period to the notice",
    ),
    (
        "notice stating both a date and a period",
        notice(
            "information_notice",
            respond_by=D(2026, 3, 1),
            period=Period(amount=10, unit="working_days"),
        ),
        "notice_period_ambiguous",
        "a notice states respond_by or a period, not both",
    ),
    (
        "confirmation decision without a provisional notice",
        notice("confirmation_decision"),
        "confirmation_requires_provisional_notice",
        "confirmation_decision requires an earlier provisional_notice_of_contravention",
    ),
    (
        "penalty notice without a confirmation decision (s.139)",
        notice("penalty_notice"),
        "penalty_notice_requires_confirmation_decision",
        "penalty_notice requires an earlier confirmation_decision",
    ),
    (
        "event dated before the case was opened, not marked as a backfill",
        NoteAdded(occurred_on=D(2026, 1, 4), text="earlier"),
        "occurred_before_case_opened",
        "note_added on 2026-01-04 is before the case began on 2026-01-05; set backfill = true "
        "to record earlier history",
    ),
    (
        "notice stating a reply date before its own date",
        notice("information_notice", respond_by=D(2026, 2, 3)),
        "stated_date_before_event",
        "respond_by 2026-02-03 is before the notice_issued itself (2026-02-04)",
    ),
    (
        "deadline missed before its due day has passed",
        DeadlineMissed(occurred_on=TODAY, deadline_id="explain-1"),
        "deadline_not_yet_due",
        "deadline 'explain-1' is due on 2026-02-09; it is missed only once that day has passed",
    ),
    (
        "extension that does not move the deadline later",
        DeadlineExtended(
            occurred_on=TODAY, deadline_id="explain-1", due_on=D(2026, 2, 9), reason="r"
        ),
        "extension_not_later",
        "deadline 'explain-1' is due on 2026-02-09; an extension must move it later",
    ),
    (
        "representations on an unknown notice",
        RepresentationsReceived(occurred_on=TODAY, notice_id="pnc-9"),
        "unknown_notice",
        "no notice 'pnc-9' on this case",
    ),
    (
        "event after today",
        NoteAdded(occurred_on=D(2026, 2, 5), text="from the future"),
        "occurred_in_future",
        "note_added occurred on 2026-02-05, after today (2026-02-04)",
    ),
    (
        "case opened twice",
        opened("ofcom", "osa-2023", D(2026, 1, 5)),
        "case_already_open",
        "case 'ofcom-osa-2023-1' is already open",
    ),
    (
        "derived event posted",
        StageChanged(occurred_on=TODAY, stage="penalty", from_stage="investigation", trigger="x"),
        "derived_event",
        "stage_changed is derived by the system and cannot be posted",
    ),
]


@pytest.mark.parametrize(
    ("action", "rule", "reason"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_decide_refuses_with_the_rule_and_a_clear_message(
    action: Event, rule: str, reason: str
) -> None:
    case = ofcom_case()
    before = case.s
    with pytest.raises(RuleViolation) as caught:
        case.do(action)
    assert (caught.value.regime, caught.value.rule) == ("ofcom/osa-2023", rule)
    assert str(caught.value) == f"ofcom/osa-2023: {reason}"
    assert case.s is before


def test_a_deadline_can_only_be_missed_once_it_is_past_and_open() -> None:
    case = ofcom_case()
    late = DeadlineMissed(occurred_on=D(2026, 2, 10), deadline_id="explain-1")
    with pytest.raises(RuleViolation, match="occurred on 2026-02-10, after today"):
        case.do(late)
    case.do(late, today=D(2026, 2, 10))
    assert case.deadline("explain-1").status == "missed"
    with pytest.raises(RuleViolation) as caught:
        case.do(late, today=D(2026, 2, 11))
    assert caught.value.rule == "deadline_not_open"
    assert str(caught.value) == "ofcom/osa-2023: deadline 'explain-1' is missed, not open"


def test_closing_cancels_open_deadlines_and_then_only_notes_and_reminders_are_taken() -> None:
    case = ofcom_case()
    out = case.do(CaseClosed(occurred_on=TODAY, reason="no further action"))
    assert tags(out) == ["case_closed", "deadline_cancelled", "stage_changed"]
    assert case.deadline("explain-1").status == "cancelled"
    assert (case.s.status, case.s.stage, case.s.closed_on) == ("closed", "closed", TODAY)
    for action in (
        ContactRecorded(
            occurred_on=TODAY, direction="inbound", channel="email", summary="late reply"
        ),
        DeadlineCancelled(occurred_on=TODAY, deadline_id="explain-1"),
        CaseClosed(occurred_on=TODAY),
    ):
        with pytest.raises(RuleViolation) as caught:
            case.do(action)
        assert caught.value.rule == "case_closed"
        assert str(caught.value) == (
            "ofcom/osa-2023: the case is closed: only note_added, reminder_failed, "
            "reminder_sent may be recorded"
        )
    case.do(NoteAdded(occurred_on=TODAY, text="archived"))
    case.do(
        ReminderSent(
            occurred_on=TODAY, reminder_id="r-1", subscription_id="s-1", deadline_id="explain-1"
        )
    )
    assert (case.s.notes, case.s.reminders_sent) == (1, 1)


def test_an_action_on_a_case_that_does_not_exist_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        decide(None, NoteAdded(occurred_on=TODAY, text="x"), regime("ico", "uk-gdpr"), TODAY)
    assert caught.value.rule == "case_not_open"
    assert str(caught.value) == "ico/uk-gdpr: note_added needs an open case: open it first"


def test_a_case_is_opened_only_under_its_own_regime_and_settings() -> None:
    ofcom = regime("ofcom", "osa-2023")
    with pytest.raises(RuleViolation) as caught:
        decide(None, opened("ico", "osa-2023", TODAY), ofcom, TODAY)
    assert caught.value.rule == "regime_mismatch"
    assert "a ico/osa-2023 case cannot be opened under ofcom/osa-2023" in str(caught.value)
    with pytest.raises(RuleViolation) as caught:
        decide(None, opened("ofcom", "osa-2023", TODAY, calendar="scotland"), ofcom, TODAY)
    assert caught.value.rule == "case_settings_mismatch"
    assert caught.value.field == "calendar"


def test_a_case_opened_under_a_regime_is_filled_with_its_time_zone_calendar_and_stage() -> None:
    [event] = decide(None, opened("ofcom", "osa-2023", TODAY), regime("ofcom", "osa-2023"), TODAY)
    assert (event.timezone, event.calendar, event.stage) == (  # type: ignore[attr-defined]
        "Europe/London",
        "england-and-wales",
        "opened",
    )


def test_a_reminder_must_name_a_deadline_of_the_case() -> None:
    case = ofcom_case()
    with pytest.raises(RuleViolation, match="no deadline 'nope'"):
        case.do(
            ReminderSent(
                occurred_on=TODAY, reminder_id="r", subscription_id="s", deadline_id="nope"
            )
        )


def test_penalty_and_appeal_ids_must_be_new_and_payments_unambiguous() -> None:
    case = open_case("ico", "uk-gdpr", D(2026, 1, 7), today=TODAY)
    case.do(InvestigationOpened(occurred_on=D(2026, 1, 8), legal_basis="UK GDPR"))
    case.do(
        NoticeIssued(occurred_on=D(2026, 1, 9), notice_id="en-1", notice_kind="enforcement_notice")
    )
    fine = PenaltyImposed(
        occurred_on=TODAY, amount="1000.00", currency="GBP", basis="s.155", penalty_id="p"
    )
    case.do(fine)
    with pytest.raises(RuleViolation, match="penalty 'p' already exists"):
        case.do(fine)
    case.do(PenaltyImposed(occurred_on=TODAY, amount="5.00", currency="GBP", basis="s.155"))
    with pytest.raises(RuleViolation, match="name the penalty_id: 2 penalties are unpaid"):
        case.do(PenaltyPaid(occurred_on=TODAY))
    case.do(PenaltyPaid(occurred_on=TODAY, penalty_id="p"))
    with pytest.raises(RuleViolation, match="penalty 'p' was paid on 2026-02-04"):
        case.do(PenaltyPaid(occurred_on=TODAY, penalty_id="p"))
