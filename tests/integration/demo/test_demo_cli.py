"""``casemgmt demo load`` on SQLite and PostgreSQL: counts printed, nothing loaded twice."""

from __future__ import annotations

from click.testing import CliRunner

from casemgmt.entrypoints.cli.root import main


def test_demo_load_prints_counts_and_a_second_run_loads_nothing(database_url: str) -> None:
    runner = CliRunner()
    env = {"CASEMGMT_DATABASE_URL": database_url, "CASEMGMT_BROKER_URL": ""}
    first = runner.invoke(main, ["demo", "load", "--seed-only"], env=env)
    assert first.exit_code == 0, first.output
    assert "4 cases (4 opened, 0 already present)" in first.output
    assert ", 0 already present (" in first.output
    again = runner.invoke(main, ["demo", "load", "--seed-only"], env=env)
    assert again.exit_code == 0, again.output
    assert "4 cases (0 opened, 4 already present); 0 events recorded" in again.output


def test_demo_is_listed_in_the_cli_help() -> None:
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0
    assert "load" in result.output
