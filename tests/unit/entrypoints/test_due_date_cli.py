"""``casemgmt due-date`` prints the due date and the same steps as the API."""

from __future__ import annotations

from click.testing import CliRunner

from casemgmt.entrypoints.cli.root import main


def test_due_date_by_rule_prints_the_date_the_sentence_and_each_step() -> None:
    result = CliRunner().invoke(
        main, ["due-date", "--rule", "foi_decision_notice_appeal", "--start", "2026-03-06"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2026-04-07 (Tuesday)"
    assert "is Fri 3 Apr 2026, Good Friday" in lines[1]
    assert "[skip] Fri 3 Apr 2026: Good Friday (England and Wales)" in result.output
    assert "[skip] Mon 6 Apr 2026: Easter Monday (England and Wales)" in result.output
    assert "[roll] next working day in England and Wales: Tue 7 Apr 2026" in result.output


def test_due_date_by_calendar_still_works_and_refuses_a_year_without_a_list() -> None:
    ok = CliRunner().invoke(
        main,
        ["due-date", "--calendar", "uk-foi", "--start", "2026-01-07", "--amount", "20",
         "--unit", "working_days"],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("2026-02-04 (Wednesday)")
    refused = CliRunner().invoke(
        main,
        ["due-date", "--calendar", "eu-commission", "--start", "2027-12-20", "--amount", "10",
         "--unit", "working_days"],
    )  # fmt: skip
    assert refused.exit_code != 0
    assert "no holiday list for 2028" in refused.output
