"""Regimes as data: shipped files, the registry, a deployment's own file, and bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from casemgmt.adapters.regime_files import load_registry
from casemgmt.domain import RegimeFileError, UnknownRegime, parse_regime
from casemgmt.domain.events import ContactRecorded, InvestigationOpened, NoticeIssued

from ._support import Case, opened, regime, registry, tags

CORE_ACTIONS = {
    "contact_recorded",
    "deadline_set",
    "assessment_started",
    "investigation_opened",
    "notice_issued",
}

# A regulator no code knows about: Ireland's media regulator under the Online Safety and
# Media Regulation Act 2022, written only by this test.
COIMISIUN_NA_MEAN = """
regulator = "coimisiun-na-mean"
regulator_name = "Coimisiún na Meán"
code = "osmr-2022"
law = "Online Safety and Media Regulation Act 2022"
timezone = "Europe/Dublin"
calendar = "calendar-days"
initial_stage = "opened"
always_allowed = ["note_added", "contact_recorded", "deadline_set", "deadline_met", "case_closed"]

[[stages]]
code = "opened"
name = "Opened"
allows = ["investigation_opened"]

[[stages]]
code = "investigation"
name = "Investigation"
allows = ["notice_issued"]

[[transitions]]
on = "investigation_opened"
to = "investigation"

[[notice_kinds]]
code = "information_request"
name = "Information request"

[deadline_kinds]
information_response_due = { party = "subject", obligation = "duty" }

[[deadline_rules]]
id = "cnam_information_request"
on = "notice_issued"
notice_kind = "information_request"
kind = "information_response_due"
label = "Answer the information request"
amount = 14
unit = "calendar_days"
"""


def test_the_four_shipped_regimes_load_with_names_for_regulator_and_law() -> None:
    labels = {r.label(): (r.regulator_name, r.law) for r in registry().all()}
    assert labels == {
        "ofcom/osa-2023": ("Office of Communications", "Online Safety Act 2023"),
        "ico/uk-gdpr": (
            "Information Commissioner's Office",
            "UK GDPR and Data Protection Act 2018",
        ),
        "eu-commission/dsa": (
            "European Commission",
            "Digital Services Act (Regulation (EU) 2022/2065)",
        ),
        "*/foi-2000": ("Any public authority", "Freedom of Information Act 2000"),
    }


def test_enforcement_regimes_allow_the_core_actions_somewhere() -> None:
    for code in (("ofcom", "osa-2023"), ("ico", "uk-gdpr"), ("eu-commission", "dsa")):
        r = regime(*code)
        allowed = set(r.always_allowed).union(*(s.allows for s in r.stages))
        assert CORE_ACTIONS | {"penalty_imposed", "appeal_lodged", "case_closed"} <= allowed


def test_foi_applies_to_any_regulator_and_names_it_in_its_label() -> None:
    foi = registry().get("ofcom", "foi-2000")
    assert foi is registry().get("a-parish-council", "foi-2000")
    assert foi.any_regulator
    assert foi.label("ofcom") == "ofcom/foi-2000"
    assert [r.code for r in registry().for_regulator("ofcom")] == ["osa-2023", "foi-2000"]
    assert "*" not in registry().regulators()


def test_an_unknown_regime_is_refused_by_name() -> None:
    with pytest.raises(UnknownRegime, match="no regime 'osa-2023' for regulator 'ico'"):
        registry().get("ico", "osa-2023")


def test_a_regime_file_in_the_extra_directory_adds_a_regulator_with_no_code_change(
    tmp_path: Path,
) -> None:
    (tmp_path / "coimisiun-na-mean.toml").write_text(COIMISIUN_NA_MEAN, encoding="utf-8")
    reg = load_registry(tmp_path)
    cnam = reg.get("coimisiun-na-mean", "osmr-2022")
    assert reg.regulators()["coimisiun-na-mean"] == "Coimisiún na Meán"
    assert len(reg.all()) == 5

    case = Case(cnam, today=date(2026, 2, 1))
    case.do(opened("coimisiun-na-mean", "osmr-2022", date(2026, 1, 8)))
    case.do(InvestigationOpened(occurred_on=date(2026, 1, 9), legal_basis="OSMR Act 2022 Part 8B"))
    out = case.do(
        NoticeIssued(
            occurred_on=date(2026, 1, 12), notice_id="ir-1", notice_kind="information_request"
        )
    )
    assert tags(out) == ["notice_issued", "deadline_set"]
    assert case.deadline("information_response_due-ir-1").due_on == date(2026, 1, 26)
    assert case.s.timezone == "Europe/Dublin"
    assert case.s.stage == "investigation"


def test_a_file_in_the_extra_directory_replaces_the_shipped_regime_of_the_same_key(
    tmp_path: Path,
) -> None:
    shipped = Path("src/casemgmt/regimes/ofcom-osa-2023.toml").read_text(encoding="utf-8")
    mine = shipped.replace('send_time = "09:00"', 'send_time = "08:30"')
    (tmp_path / "ofcom.toml").write_text(mine, encoding="utf-8")
    assert load_registry(tmp_path).get("ofcom", "osa-2023").reminders.send_time == "08:30"


def test_two_extra_files_defining_the_same_regime_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(COIMISIUN_NA_MEAN, encoding="utf-8")
    (tmp_path / "b.toml").write_text(COIMISIUN_NA_MEAN, encoding="utf-8")
    with pytest.raises(
        RegimeFileError, match=r"b\.toml: code: coimisiun-na-mean/osmr-2022 is also"
    ):
        load_registry(tmp_path)


def test_a_missing_extra_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_registry(tmp_path / "nowhere")


BAD_FILES = [
    (
        "unknown stage in a transition",
        ('to = "investigation"', 'to = "trial"'),
        "transitions[0].to",
        "unknown stage 'trial'",
    ),
    (
        "unknown calendar",
        ('calendar = "calendar-days"', 'calendar = "irish-bank-holidays"'),
        "calendar",
        "unknown calendar 'irish-bank-holidays'",
    ),
    (
        "unknown event type in a stage's actions",
        ('allows = ["notice_issued"]', 'allows = ["notice_sent"]'),
        "stages[1].allows[0]",
        "unknown event type 'notice_sent'",
    ),
    (
        "rule refers to an unknown notice kind",
        ('notice_kind = "information_request"', 'notice_kind = "warning_letter"'),
        "deadline_rules[0].notice_kind",
        "unknown notice kind 'warning_letter'",
    ),
    (
        "wrong type",
        ("amount = 14", 'amount = "fourteen"'),
        "deadline_rules[0].amount",
        "Expected `int | null`, got `str`",
    ),
    (
        "unknown key (a typo)",
        ("unit = ", "units = "),
        "deadline_rules[0]",
        "unknown field `units`",
    ),
    (
        "unknown time zone",
        ('timezone = "Europe/Dublin"', 'timezone = "Europe/Atlantis"'),
        "timezone",
        "unknown time zone 'Europe/Atlantis'",
    ),
    (
        "statutory rule without a period",
        ("amount = 14\n", ""),
        "deadline_rules[0]",
        "a statutory period needs amount and unit",
    ),
    (
        "when_overdue naming a deadline kind no rule produces",
        (
            "[[transitions]]",
            '[[when_overdue]]\nid = "early"\non = "note_added"\nstages = ["opened"]\n'
            'kind = "response_due"\n\n[[transitions]]',
        ),
        "when_overdue[0].kind",
        "no deadline rule produces deadline kind 'response_due'",
    ),
    (
        "an extension by an event that states no new date",
        (
            "[[transitions]]",
            '[[extensions]]\nid = "x"\non = "note_added"\nkind = "information_response_due"'
            "\n\n[[transitions]]",
        ),
        "extensions[0].on",
        "only extension_agreed, public_interest_extension state an extension",
    ),
    (
        "a minimum not before a kind no rule produces",
        ('unit = "calendar_days"\n', 'unit = "calendar_days"\nminimum = { not_before = "x" }\n'),
        "deadline_rules[0].minimum.not_before",
        "no deadline rule produces deadline kind 'x'",
    ),
    (
        "derived event as an action",
        ('allows = ["investigation_opened"]', 'allows = ["stage_changed"]'),
        "stages[0].allows[0]",
        "derived by the system",
    ),
]


@pytest.mark.parametrize(
    ("case", "edit", "key", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_regime_file_fails_with_the_file_the_key_and_the_reason(
    case: str, edit: tuple[str, str], key: str, reason: str, tmp_path: Path
) -> None:
    old, new = edit
    assert old in COIMISIUN_NA_MEAN
    path = tmp_path / "cnam.toml"
    path.write_text(COIMISIUN_NA_MEAN.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegimeFileError) as caught:
        load_registry(tmp_path)
    error = caught.value
    assert (error.source, error.key) == (str(path), key)
    assert reason in error.reason
    assert str(error).startswith(f"{path}: {key}: ")


def test_a_file_that_is_not_toml_names_the_file_and_the_position() -> None:
    with pytest.raises(RegimeFileError, match=r"^broken\.toml: not valid TOML: .*line 2"):
        parse_regime('code = "x"\nregulator = = 1\n', "broken.toml")


def test_a_file_missing_a_required_key_names_it() -> None:
    with pytest.raises(RegimeFileError, match="missing required field `timezone`"):
        parse_regime(COIMISIUN_NA_MEAN.replace('timezone = "Europe/Dublin"\n', ""), "x.toml")


def test_contact_is_allowed_in_every_stage_of_the_shipped_regimes() -> None:
    contact = ContactRecorded(
        occurred_on=date(2026, 1, 5), direction="outbound", channel="email", summary="x"
    ).type_tag()
    for r in registry().all():
        assert all(r.allows(s.code, contact) for s in r.stages), r.label()
