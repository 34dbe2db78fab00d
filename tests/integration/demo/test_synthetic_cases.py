"""The synthetic demo cases as data: deterministic, marked, spread over every regime."""

from __future__ import annotations

from collections import Counter

from casemgmt.application.demo import ANCHOR, demo_cases, seed_cases, synthetic_cases
from casemgmt.application.demo.model import step_event_id


def test_synthetic_cases_are_the_same_every_time() -> None:
    assert synthetic_cases() == synthetic_cases()
    first, again = synthetic_cases()[0], synthetic_cases()[0]
    assert [step_event_id(first.case_id, i, e) for i, e in enumerate(first.steps)] == [
        step_event_id(again.case_id, i, e) for i, e in enumerate(again.steps)
    ]


def test_synthetic_cases_are_clearly_marked_and_seed_cases_are_not() -> None:
    for case in synthetic_cases():
        opened = case.opened
        assert case.synthetic
        assert opened.subject.endswith("(synthetic)")
        assert "synthetic" in opened.related_parties
        assert (opened.reference or "").startswith("SYN-")
        assert opened.case_id.startswith(f"{opened.regulator}-syn-")
    for case in seed_cases():
        assert not case.synthetic
        assert "synthetic" not in case.opened.subject
        assert "-syn-" not in case.opened.case_id


def test_a_few_hundred_cases_across_every_regulator_and_regime_up_to_the_anchor() -> None:
    cases = synthetic_cases()
    assert 250 <= len(cases) <= 500
    assert len({c.case_id for c in cases}) == len(cases)
    mix = Counter((c.opened.regulator, c.opened.regime) for c in cases)
    assert set(mix) == {
        ("ofcom", "osa-2023"),
        ("ofcom", "foi-2000"),
        ("ico", "uk-gdpr"),
        ("ico", "foi-2000"),
        ("eu-commission", "dsa"),
    }
    assert all(c.last_day <= ANCHOR for c in cases)
    kinds = Counter(e.type_tag() for c in cases for e in c.steps)
    for tag in ("notice_issued", "penalty_imposed", "penalty_paid", "appeal_lodged", "case_closed"):
        assert kinds[tag] > 0, tag
    assert kinds["deadline_missed"] > 0
    assert kinds["representations_received"] > 0


def test_the_seed_cases_come_last_so_lists_show_them_first() -> None:
    ids = [c.case_id for c in demo_cases()]
    assert ids[-4:] == [c.case_id for c in seed_cases()]
