"""Every derived deadline explains itself, from the same arithmetic that dated it (#15).

REFERENCE §6 worked examples pin the due date *and* the days listed as skipped; a
property replays the steps of any explanation and gets the explained due date back.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casemgmt.domain import Event, RuleViolation, decide, evolve, fold
from casemgmt.domain.calendar.calendars import get_calendar
from casemgmt.domain.calendar.explain import Explanation, Step, explain_period
from casemgmt.domain.events import (
    ClarificationReceived,
    ClarificationRequested,
    DeadlineExtended,
    DeadlineSet,
    FeePaid,
    FeesNoticeIssued,
    InvestigationOpened,
    NoticeIssued,
)
from casemgmt.domain.events.fields import Period

from ._support import open_case, opened, regime
from .test_properties import START, TODAY, scenario

D = date
ONE = timedelta(days=1)


def replay(e: Explanation) -> date:
    """An independent walk over the steps: the day they lead to.

    The last ``trigger`` starts the final count: ``amount`` ``unit`` counted after (or
    beginning with) it, working days passing over the listed ``skip`` days; a ``roll``
    passes over listed skip days; a ``floor`` counts two unskipped days from the period's
    first day.
    A ``stated``, ``extension`` or ``manual`` step after the count gives its day as is.
    """
    skips = {s.on for s in e.steps if s.kind == "skip"}
    last_trigger = max(i for i, s in enumerate(e.steps) if s.kind in ("trigger", "manual"))
    steps = e.steps[last_trigger:]
    day: date | None = None
    trigger = steps[0].on
    assert trigger is not None
    for s in steps:
        if s.kind == "count":
            day = _count(trigger, s, skips)
        elif s.kind == "roll":
            assert day is not None
            while day in skips:
                day += ONE
        elif s.kind == "floor":  # counted from the period's first day, like the count
            inclusive = any(c.counting == "beginning_with" for c in steps if c.kind == "count")
            day = _nth_unskipped(trigger - ONE if inclusive else trigger, 2, skips)
        elif s.kind in ("stated", "extension", "manual"):
            day = s.on
    assert day is not None
    return day


def _count(trigger: date, s: Step, skips: set[date]) -> date:
    assert s.amount is not None
    inclusive = s.counting == "beginning_with"
    if s.unit == "calendar_days":
        return trigger + timedelta(days=s.amount - (1 if inclusive else 0))
    if s.unit == "months":
        month = trigger.month - 1 + s.amount
        year, month = trigger.year + month // 12, month % 12 + 1
        days = [date(year, month, d) for d in range(1, 32) if _valid(year, month, d)]
        if trigger.day > days[-1].day:
            return days[-1]
        corresponding = date(year, month, trigger.day)
        return corresponding - ONE if inclusive else corresponding
    return _nth_unskipped(trigger - ONE if inclusive else trigger, s.amount, skips)


def _nth_unskipped(after: date, n: int, skips: set[date]) -> date:
    day = after
    while n:
        day += ONE
        n -= day not in skips
    return day


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def _holidays(e: Explanation) -> list[tuple[date, str]]:
    return [(s.on, s.holiday) for s in e.steps if s.kind == "skip" and s.reason == "holiday"]  # type: ignore[misc]


# --- REFERENCE §6, through the rules, with the skipped holidays pinned -------------------

FOI = [
    # received, due, weekday holidays skipped
    (D(2026, 1, 7), D(2026, 2, 4), []),
    (D(2026, 3, 20), D(2026, 4, 21), [D(2026, 4, 3), D(2026, 4, 6)]),
    (D(2026, 3, 10), D(2026, 4, 10), [D(2026, 3, 17), D(2026, 4, 3), D(2026, 4, 6)]),
    (
        D(2026, 12, 10),
        D(2027, 1, 13),
        [D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 1), D(2027, 1, 4)],
    ),
]


@pytest.mark.parametrize(("received", "due", "holidays"), FOI, ids=[str(r[0]) for r in FOI])
def test_foi_response_due_dates_list_every_day_skipped(
    received: date, due: date, holidays: list[date]
) -> None:
    case = open_case("ofcom", "foi-2000", received, today=received, received_on=received)
    d = case.deadline("response_due")
    e = d.explanation
    assert e is not None
    assert (d.due_on, e.due_on, e.rule, e.citation) == (
        due,
        due,
        "foi_response_due",
        "FOIA 2000 s.10(1)",
    )
    assert [day for day, _ in _holidays(e)] == holidays
    weekends = [s.on for s in e.steps if s.kind == "skip" and s.reason == "weekend"]
    expected = [
        received + timedelta(days=i)
        for i in range(1, (due - received).days + 1)
        if (received + timedelta(days=i)).weekday() >= 5
    ]
    assert weekends == expected
    assert replay(e) == due
    assert e.sentence.startswith(f"20 working days after {received:%a} {received.day}")


def test_st_patricks_day_is_named_with_the_part_of_the_uk() -> None:
    case = open_case(
        "ofcom", "foi-2000", D(2026, 3, 10), today=D(2026, 3, 10), received_on=D(2026, 3, 10)
    )
    e = case.deadline("response_due").explanation
    skip = next(s for s in e.steps if s.on == D(2026, 3, 17))
    assert (skip.holiday, skip.where) == ("Saint Patrick's Day", "Northern Ireland")
    assert "Saint Patrick's Day 17 Mar (Northern Ireland)" in e.sentence


def _issue(case, kind: str, on: date, **fields: object) -> None:  # type: ignore[no-untyped-def]
    case.do(NoticeIssued(occurred_on=on, notice_id="n-1", notice_kind=kind, **fields))  # type: ignore[arg-type]


def _ico(on: date):  # type: ignore[no-untyped-def]
    case = open_case("ico", "uk-gdpr", D(2026, 1, 5), today=on)
    case.do(InvestigationOpened(occurred_on=D(2026, 1, 6), legal_basis="UK GDPR"))
    return case


def test_the_tribunal_window_explains_the_bank_holiday_the_roll_and_17_00() -> None:
    case = _ico(D(2026, 4, 27))
    _issue(case, "enforcement_notice", D(2026, 4, 27), respond_by=D(2026, 6, 30))
    d = case.deadline("appeal_window-n-1")
    e = d.explanation
    assert (d.due_on, d.ends_at) == (D(2026, 5, 26), "17:00")
    assert d.due_at.isoformat() == "2026-05-26T16:00:00+00:00"  # 17:00 BST
    kinds = [s.kind for s in e.steps]
    assert kinds == ["trigger", "count", "skip", "roll", "ends"]
    assert _holidays(e) == [(D(2026, 5, 25), "Spring Bank Holiday")]
    assert replay(e) == D(2026, 5, 26)
    assert e.sentence == (
        "28 days after Mon 27 Apr 2026 (DPA 2018 s.162; GRC Rules 2009 r.22(1)(b) (28 days), "
        "r.12 (5pm; next working day)) is Mon 25 May 2026, Spring Bank Holiday; the next "
        "working day in England and Wales is Tue 26 May 2026; filings close at 17:00"
    )


def test_christmas_day_rolls_past_the_boxing_day_substitute() -> None:
    case = _ico(D(2026, 11, 27))
    _issue(case, "enforcement_notice", D(2026, 11, 27), respond_by=D(2027, 1, 30))
    e = case.deadline("appeal_window-n-1").explanation
    assert e.due_on == D(2026, 12, 29)
    assert [s.on for s in e.steps if s.kind == "skip"] == [
        D(2026, 12, 25), D(2026, 12, 26), D(2026, 12, 27), D(2026, 12, 28)
    ]  # fmt: skip
    assert (
        "is Fri 25 Dec 2026, Christmas Day; the next working day in England and Wales "
        "is Tue 29 Dec 2026" in e.sentence
    )


def test_representations_minimum_is_checked_and_shown() -> None:
    case = _ico(D(2026, 12, 10))
    _issue(case, "notice_of_intent", D(2026, 12, 10), respond_by=D(2026, 12, 30))
    e = case.deadline("representations_due-n-1").explanation
    minimum = [s for s in e.steps if s.kind == "minimum"]
    assert [s.on for s in minimum] == [D(2026, 12, 30)]
    assert minimum[0].text.endswith(": met")
    assert "21 calendar days beginning with Thu 10 Dec 2026" in minimum[0].text
    window = case.deadline("penalty_notice_due-n-1").explanation
    assert (window.due_on, replay(window)) == (D(2027, 6, 9), D(2027, 6, 9))
    assert "6 months beginning with Thu 10 Dec 2026" in window.sentence


def test_the_dsa_observations_period_rolls_on_the_commission_calendar_with_its_flag() -> None:
    case = open_case("eu-commission", "dsa", D(2026, 1, 5), today=D(2026, 12, 20))
    case.do(
        NoticeIssued(occurred_on=D(2026, 2, 2), notice_id="p-1", notice_kind="proceedings_opened")
    )
    case.do(
        NoticeIssued(
            occurred_on=D(2026, 12, 10),
            notice_id="pf-1",
            notice_kind="preliminary_findings",
            period=Period(amount=14, unit="calendar_days"),
        )
    )
    e = case.deadline("observations_due-pf-1").explanation
    # 14 days after Thu 10 Dec end Thu 24 Dec, a Commission holiday; so is every weekday to
    # Fri 1 Jan; Mon 4 Jan 2027 is the next working day
    assert e.due_on == D(2027, 1, 4)
    flagged = [s for s in e.steps if s.kind == "skip" and s.reason == "holiday"]
    assert flagged
    assert all(s.confirmed is False and s.where == "the Commission" for s in flagged)
    assert "not yet confirmed" in flagged[0].text
    assert replay(e) == D(2027, 1, 4)


def test_fees_pause_is_explained_with_the_days_disregarded() -> None:
    received = D(2026, 1, 7)
    case = open_case("ofcom", "foi-2000", received, today=D(2026, 2, 20), received_on=received)
    case.do(FeesNoticeIssued(occurred_on=D(2026, 1, 12), amount="25.00"))  # type: ignore[call-arg]
    case.do(FeePaid(occurred_on=D(2026, 1, 16)))
    d = case.deadline("response_due")
    e = d.explanation
    disregard = next(s for s in e.steps if s.kind == "disregard")
    assert disregard.amount == 5
    assert d.due_on == D(2026, 2, 11)
    assert replay(e) == d.due_on
    assert "5 working days from Mon 12 Jan 2026 to Fri 16 Jan 2026, both included" in e.sentence


def test_a_deadline_set_or_moved_by_hand_says_so_and_by_whom() -> None:
    case = _ico(D(2026, 3, 2))
    set_by_hand = DeadlineSet(
        occurred_on=D(2026, 3, 2),
        deadline_id="d-1",
        kind="response_due",
        label="Reply",
        due_on=D(2026, 3, 20),
        party="subject",
        obligation="duty",
    )
    [accepted] = decide(case.s, set_by_hand, case.regime, D(2026, 3, 2), "key-abc")
    assert accepted.explanation is not None
    assert accepted.explanation.set_by == "key-abc"
    assert accepted.explanation.sentence.startswith("set by hand by key-abc on Mon 2 Mar 2026")
    state = evolve(case.s, accepted)
    move = DeadlineExtended(
        occurred_on=D(2026, 3, 2), deadline_id="d-1", due_on=D(2026, 3, 27), reason="agreed"
    )
    [moved] = decide(state, move, case.regime, D(2026, 3, 2), "key-def")
    e = moved.explanation
    assert e is not None
    assert (e.set_by, e.due_on, replay(e)) == ("key-def", D(2026, 3, 27), D(2026, 3, 27))
    assert "moved by hand by key-def on Mon 2 Mar 2026 from Fri 20 Mar 2026" in e.sentence
    assert evolve(state, moved).deadline("d-1").explanation == e  # type: ignore[union-attr]


# --- property: replaying any explanation gives its due date --------------------------------

CALENDARS = ["uk-foi", "england-and-wales", "scotland", "northern-ireland", "calendar-days"]


@settings(deadline=None, max_examples=300)
@given(
    start=st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31)),
    amount=st.integers(1, 120),
    unit=st.sampled_from(["working_days", "calendar_days", "months"]),
    counting=st.sampled_from(["after", "beginning_with"]),
    roll=st.booleans(),
    floor=st.sampled_from([0, 2]),
    name=st.sampled_from(CALENDARS),
)
def test_replaying_the_steps_gives_the_computed_due_date(
    start: date, amount: int, unit: str, counting: str, roll: bool, floor: int, name: str
) -> None:
    cal = get_calendar(name)
    p = cal.period(
        start, amount, unit, counting=counting, roll_forward=roll, min_working_days=floor
    )  # type: ignore[arg-type]
    e = explain_period(
        cal,
        p,
        trigger="t",
        rule=None,
        citation=None,
        roll_forward=roll,
        ends_at=None,
        timezone=None,
    )
    assert e.due_on == p.due_on
    assert replay(e) == e.due_on


def test_the_dsa_commission_calendar_replays_too() -> None:
    cal = regime("eu-commission", "dsa").business_calendar()
    for offset in range(0, 700, 3):
        start = D(2025, 1, 1) + timedelta(days=offset)
        for amount, unit in ((2, "calendar_days"), (10, "working_days"), (14, "calendar_days")):
            p = cal.period(start, amount, unit, roll_forward=True, min_working_days=2)  # type: ignore[arg-type]
            e = explain_period(
                cal,
                p,
                trigger="t",
                rule=None,
                citation=None,
                roll_forward=True,
                ends_at=None,
                timezone=None,
            )
            assert replay(e) == p.due_on, (start, amount, unit)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenario())
def test_every_deadline_decide_dates_carries_an_explanation_that_replays_to_it(
    case: tuple[tuple[str, str], list[Event]],
) -> None:
    which, proposed = case
    r = regime(*which)
    state = fold(decide(None, opened(*which, START), r, TODAY))
    for action in proposed:
        try:
            for event in decide(state, action, r, TODAY, "key-prop"):
                state = evolve(state, event)
        except RuleViolation:
            continue
    assert state is not None
    for d in state.deadlines:
        e = d.explanation
        assert e is not None, d.deadline_id
        assert e.due_on == d.due_on, d.deadline_id
        assert replay(e) == d.due_on, (d.deadline_id, e.steps)
        if d.rule is None:  # set by hand: it says so, and by whom
            manual = [s for s in e.steps if s.kind == "manual"]
            assert manual, d.deadline_id
            assert "by key-prop" in manual[0].text


def test_a_notice_of_intent_stating_21_days_is_counted_beginning_with_the_day_given() -> None:
    case = _ico(D(2026, 12, 10))
    _issue(
        case, "notice_of_intent", D(2026, 12, 10), period=Period(amount=21, unit="calendar_days")
    )
    d = case.deadline("representations_due-n-1")
    assert d.due_on == D(2026, 12, 30)  # "after" would give Thu 31 Dec, one day too many
    assert d.explanation.sentence.startswith("21 days beginning with Thu 10 Dec 2026")  # type: ignore[union-attr]


def test_a_clarification_restarts_the_count_and_the_explanation_shows_the_pause() -> None:
    received = D(2026, 1, 7)
    case = open_case("ofcom", "foi-2000", received, today=D(2026, 2, 20), received_on=received)
    case.do(ClarificationRequested(occurred_on=D(2026, 1, 9), summary="Which years?"))
    case.do(ClarificationReceived(occurred_on=D(2026, 1, 14)))
    d = case.deadline("response_due")
    e = d.explanation
    assert e is not None
    assert d.due_on == e.due_on == D(2026, 2, 11)  # 20 working days after Wed 14 Jan
    kinds = [s.kind for s in e.steps]
    assert kinds.index("pause") < kinds.index("restart") < len(kinds) - kinds[::-1].index("trigger")
    assert [s.on for s in e.steps if s.kind in ("pause", "restart")] == [
        D(2026, 1, 9),
        D(2026, 1, 14),
    ]
    assert e.citation == "FOIA 2000 s.1(3), s.10(6)(b)"
    assert replay(e) == D(2026, 2, 11)


def test_an_information_notice_shows_its_appeal_period_minimum_or_that_urgency_waives_it() -> None:
    case = _ico(D(2026, 4, 27))
    _issue(case, "information_notice", D(2026, 4, 27), respond_by=D(2026, 6, 1))
    e = case.deadline("information_response_due-n-1").explanation
    [minimum] = [s for s in e.steps if s.kind == "minimum"]
    assert minimum.on == D(2026, 5, 26)  # the appeal window: 28 days, rolled past 25 May
    assert minimum.text.startswith("minimum checked: not before the appeal window, Tue 26 May")
    assert minimum.text.endswith(": met")
    urgent = _ico(D(2026, 4, 27))
    urgent.do(
        NoticeIssued(
            occurred_on=D(2026, 4, 27), notice_id="n-1", notice_kind="information_notice",
            respond_by=D(2026, 4, 30), urgent=True,
        )
    )  # fmt: skip
    e = urgent.deadline("information_response_due-n-1").explanation
    [waived] = [s for s in e.steps if s.kind == "minimum"]
    assert waived.text.startswith("minimum not applied: the notice says it is urgent")
    assert replay(e) == D(2026, 4, 30)
