"""Properties of the core over arbitrary action sequences on every shipped regime.

Whatever integrations post, in whatever order: ``decide`` either accepts or raises
``RuleViolation`` (nothing else), ``fold`` of what it accepted never raises and equals
the state built step by step, and replaying the same events gives the same state.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemgmt.domain import Event, RuleViolation, decide, evolve, fold
from casemgmt.domain import events as ev
from casemgmt.domain.events.fields import Period

from ._support import opened, registry

START = date(2026, 1, 5)
TODAY = date(2026, 12, 31)
REGIMES = [
    ("ofcom", "osa-2023"),
    ("ico", "uk-gdpr"),
    ("eu-commission", "dsa"),
    ("ofcom", "foi-2000"),
]

days = st.integers(min_value=0, max_value=360).map(lambda n: START + timedelta(days=n))
later_days = st.integers(min_value=0, max_value=500).map(lambda n: START + timedelta(days=n))
deadline_ids = st.sampled_from(
    ["d-1", "d-2", "response_due", "representations_due-n-1", "internal_review_due",
     "information_response_due-n-2", "penalty_payable-penalty-1", "appeal_window-n-1"]
)  # fmt: skip
notice_ids = st.sampled_from(["n-1", "n-2", "n-3"])
periods = st.builds(
    Period,
    amount=st.integers(min_value=1, max_value=60),
    unit=st.sampled_from(["working_days", "calendar_days", "months"]),
)
money = st.sampled_from(["1.00", "5000000.00", "18000000.00", "99000000.00"])


def _at(cls: type[Event], **kw: st.SearchStrategy[object]) -> st.SearchStrategy[Event]:
    return st.builds(cls, occurred_on=days, **kw)


def actions(notice_kinds: st.SearchStrategy[str]) -> st.SearchStrategy[Event]:
    """Any action, with notice kinds drawn from ``notice_kinds`` (closing is kept apart)."""
    return st.one_of(
        _at(ev.NoteAdded, text=st.just("note")),
        _at(ev.CaseAssigned, assignee=st.sampled_from(["alice", "bob"])),
        _at(ev.ContactRecorded, direction=st.sampled_from(["inbound", "outbound"]),
            channel=st.just("email"), summary=st.just("s"), urgent=st.booleans()),
        _at(ev.DeadlineSet, deadline_id=deadline_ids, kind=st.just("response_due"),
            label=st.just("l"), due_on=later_days),
        _at(ev.DeadlineMet, deadline_id=deadline_ids),
        _at(ev.DeadlineMissed, deadline_id=deadline_ids),
        _at(ev.DeadlineCancelled, deadline_id=deadline_ids),
        _at(ev.DeadlineExtended, deadline_id=deadline_ids, due_on=later_days, reason=st.just("r")),
        _at(ev.ExtensionAgreed, deadline_id=deadline_ids, extended_to=later_days),
        _at(ev.AssessmentStarted),
        _at(ev.AssessmentConcluded, outcome=st.sampled_from(["no_further_action", "escalate"])),
        _at(ev.InvestigationOpened, legal_basis=st.just("basis")),
        _at(ev.InvestigationClosed, outcome=st.just("done")),
        _at(ev.NoticeIssued, notice_id=notice_ids, notice_kind=notice_kinds,
            respond_by=st.none() | later_days, period=st.none() | periods,
            court_application_on=st.none() | days),
        _at(ev.NoticeWithdrawn, notice_id=notice_ids),
        _at(ev.RepresentationsReceived, notice_id=notice_ids),
        _at(ev.PenaltyImposed, amount=money, currency=st.sampled_from(["GBP", "EUR"]),
            basis=st.just("b"), revenue=st.none() | money, payable_by=st.none() | later_days),
        _at(ev.PenaltyPaid),
        _at(ev.AppealLodged),
        _at(ev.AppealDecided, outcome=st.sampled_from(["allowed", "dismissed"])),
        _at(ev.ClarificationRequested),
        _at(ev.ClarificationReceived),
        _at(ev.FeesNoticeIssued, amount=st.just("10.00")),
        _at(ev.FeePaid),
        _at(ev.PublicInterestExtension, extended_to=later_days, exceptional=st.booleans()),
        _at(ev.ResponseSent, outcome=st.just("provided"), review_window=st.none() | periods),
        _at(ev.InternalReviewRequested),
        _at(ev.InternalReviewCompleted, outcome=st.just("upheld")),
        _at(ev.RegulatorComplaintLodged),
        _at(ev.ReminderSent, reminder_id=st.just("r"), subscription_id=st.just("s"),
            deadline_id=deadline_ids),
        _at(ev.StageChanged, stage=st.just("penalty"), from_stage=st.just("opened"),
            trigger=st.just("x")),
    )  # fmt: skip


def scenario() -> st.SearchStrategy[tuple[tuple[str, str], list[Event]]]:
    """A regime and actions for it, ending in closing the case now and then."""

    def for_regime(
        which: tuple[str, str],
    ) -> st.SearchStrategy[tuple[tuple[str, str], list[Event]]]:
        kinds = [*sorted(k.code for k in registry().get(*which).notice_kinds), "bogus_notice"]
        steps = st.lists(actions(st.sampled_from(kinds)), max_size=40)
        closing = st.lists(_at(ev.CaseClosed), max_size=1)
        return st.tuples(st.just(which), st.builds(lambda a, c: [*a, *c], steps, closing))

    return st.sampled_from(REGIMES).flatmap(for_regime)


PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(case=scenario())
def test_fold_of_what_decide_accepts_never_raises_and_matches_step_by_step(
    case: tuple[tuple[str, str], list[Event]],
) -> None:
    which, proposed = case
    regime = registry().get(*which)
    stream: list[Event] = decide(None, opened(*which, START), regime, TODAY)
    state = fold(stream)
    for action in proposed:
        try:
            accepted = decide(state, action, regime, TODAY)
        except RuleViolation:
            continue
        for event in accepted:
            state = evolve(state, event)
        stream.extend(accepted)
    assert fold(stream) == state


@PROPERTY_SETTINGS
@given(case=scenario())
def test_replaying_the_same_events_gives_the_same_state(
    case: tuple[tuple[str, str], list[Event]],
) -> None:
    which, proposed = case
    regime = registry().get(*which)
    stream: list[Event] = decide(None, opened(*which, START), regime, TODAY)
    for action in proposed:
        try:
            stream.extend(decide(fold(stream), action, regime, TODAY))
        except RuleViolation:
            continue
    assert fold(stream) == fold(list(stream))
    assert fold(stream) == fold(tuple(stream))


@PROPERTY_SETTINGS
@given(case=scenario())
def test_derived_deadlines_are_unique_and_closed_cases_keep_no_open_deadline(
    case: tuple[tuple[str, str], list[Event]],
) -> None:
    which, proposed = case
    regime = registry().get(*which)
    state = fold(decide(None, opened(*which, START), regime, TODAY))
    for action in proposed:
        try:
            for event in decide(state, action, regime, TODAY):
                state = evolve(state, event)
        except RuleViolation:
            continue
    assert state is not None
    ids = [d.deadline_id for d in state.deadlines]
    assert len(ids) == len(set(ids))
    if state.closed:
        assert state.open_deadlines() == []
