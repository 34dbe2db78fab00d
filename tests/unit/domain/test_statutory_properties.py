"""Property: a statutory deadline's due date never moves except through its statutory
events (issue #10 items 3 and 8), whatever is posted, in whatever order."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from casemgmt.domain import RuleViolation
from casemgmt.domain.events import (
    ClarificationReceived,
    ClarificationRequested,
    DeadlineClosed,
    DeadlineExtended,
    DeadlineMissed,
    Event,
    ExtensionAgreed,
    FeePaid,
    FeesNoticeIssued,
    InvestigationOpened,
    NoteAdded,
    NoticeIssued,
    PublicInterestExtension,
    RegulatorComplaintLodged,
    ResponseSent,
)

from ._support import open_case

RECEIVED = date(2026, 1, 7)
TODAY = date(2027, 1, 1)
#: The events FOIA names as moving the response deadline (s.1(3), s.9, s.10(3)).
MOVERS = {"clarification_received", "fee_paid", "public_interest_extension"}
RULES = {
    "foi_clarification_restarts_clock",
    "foi_fees_notice_stops_clock",
    "foi_public_interest_extension",
}


def _action(kind: int, day: date, other: date, flag: bool) -> Event:
    makers = (
        lambda: DeadlineExtended(
            occurred_on=day, deadline_id="response_due", due_on=other, reason="plain"
        ),
        lambda: PublicInterestExtension(occurred_on=day, extended_to=other, exceptional=flag),
        lambda: ClarificationRequested(occurred_on=day),
        lambda: ClarificationReceived(occurred_on=day),
        lambda: FeesNoticeIssued(occurred_on=day, amount="10.00"),
        lambda: FeePaid(occurred_on=day),
        lambda: DeadlineMissed(occurred_on=day, deadline_id="response_due"),
        lambda: DeadlineClosed(occurred_on=day, deadline_id="fee_due"),
        lambda: NoteAdded(occurred_on=day, text="n"),
        lambda: RegulatorComplaintLodged(occurred_on=day),
        lambda: ResponseSent(occurred_on=day, outcome="provided"),
    )
    return makers[kind % len(makers)]()


steps = st.lists(
    st.tuples(
        st.integers(0, 10),
        st.integers(0, 200),
        st.integers(1, 120),
        st.booleans(),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_the_foi_response_deadline_moves_only_through_statutory_events(
    plan: list[tuple[int, int, int, bool]],
) -> None:
    case = open_case("ofcom", "foi-2000", RECEIVED, today=TODAY, subject="Ofcom")
    exceptional = False
    for kind, offset, later, flag in sorted(plan, key=lambda p: p[1]):
        day = RECEIVED + timedelta(days=offset)
        before = case.deadline("response_due").due_on
        try:
            out = case.do(_action(kind, day, day + timedelta(days=later), flag))
        except RuleViolation:
            continue
        if case.deadline("response_due").due_on != before:
            assert out[0].type_tag() in MOVERS
        exceptional = exceptional or bool(getattr(out[0], "exceptional", False))
    history = case.deadline("response_due").history
    assert {h.rule for h in history} <= RULES
    if not exceptional:  # public-interest extensions: 20 working days in total at most
        calendar = case.regime.business_calendar()
        added = sum(
            calendar.working_days_between(h.from_due_on, h.to_due_on)
            for h in history
            if h.rule == "foi_public_interest_extension"
        )
        assert added <= 20


WINDOW = "penalty_notice_due-noi-1"


def _ico_action(kind: int, day: date, other: date) -> Event:
    makers = (
        lambda: DeadlineExtended(occurred_on=day, deadline_id=WINDOW, due_on=other, reason="r"),
        lambda: ExtensionAgreed(occurred_on=day, deadline_id=WINDOW, extended_to=other),
        lambda: DeadlineClosed(occurred_on=day, deadline_id=WINDOW),
        lambda: NoteAdded(occurred_on=day, text="n"),
        lambda: NoticeIssued(occurred_on=day, notice_id="pn-1", notice_kind="penalty_notice"),
    )
    return makers[kind % len(makers)]()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 300), st.integers(1, 120)), max_size=10)
)
def test_the_six_month_penalty_notice_window_moves_only_by_agreement(
    plan: list[tuple[int, int, int]],
) -> None:
    noi = date(2026, 3, 15)
    case = open_case("ico", "uk-gdpr", date(2026, 1, 7), today=TODAY)
    case.do(InvestigationOpened(occurred_on=noi, legal_basis="UK GDPR"))
    case.do(
        NoticeIssued(
            occurred_on=noi, notice_id="noi-1", notice_kind="notice_of_intent",
            respond_by=date(2026, 4, 10),
        )
    )  # fmt: skip
    for kind, offset, later in sorted(plan, key=lambda p: p[1]):
        day = noi + timedelta(days=offset)
        before = case.deadline(WINDOW).due_on
        try:
            out = case.do(_ico_action(kind, day, day + timedelta(days=later)))
        except RuleViolation:
            continue
        if case.deadline(WINDOW).due_on != before:
            assert out[0].type_tag() == "extension_agreed"
        if out[0].type_tag() == "notice_issued":  # given within the (agreed) window
            assert day <= before
