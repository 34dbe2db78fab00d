"""``casemgmt import FILE.ndjson``: the CLI twin of POST /v1/import (#14 item 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from casemgmt.entrypoints.cli.root import main

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "events.ndjson"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"CASEMGMT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"}
    assert CliRunner().invoke(main, ["db", "upgrade"], env=env).exit_code == 0
    return env


def _import(path: Path, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["import", str(path)], env=env)
    return result.exit_code, result.output


def test_the_example_file_imports_once_then_is_all_duplicates(env: dict[str, str]) -> None:
    lines = len(EXAMPLE.read_text().splitlines())
    code, output = _import(EXAMPLE, env)
    assert code == 0, output
    assert f"{lines} accepted, 0 duplicate, 0 rejected" in output
    code, output = _import(EXAMPLE, env)
    assert code == 0, output
    assert f"0 accepted, {lines} duplicate, 0 rejected" in output


def test_an_invalid_line_is_named_and_nothing_is_written(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text(EXAMPLE.read_text() + '{"case_id": "ofcom-example-osa", "type": "nope"}\n')
    code, output = _import(bad, env)
    assert code == 1
    assert "line 10:" in output
    assert "nothing was imported" in output
    code, output = _import(EXAMPLE, env)  # the valid lines were not written before
    assert "0 duplicate" in output


def test_a_line_the_rules_refuse_is_printed_and_the_exit_status_is_1(
    env: dict[str, str], tmp_path: Path
) -> None:
    refused = tmp_path / "refused.ndjson"
    line = {"case_id": "ofcom-none", "type": "note_added", "occurred_on": "2026-01-05", "text": "x"}
    refused.write_text(json.dumps(line) + "\n")
    code, output = _import(refused, env)
    assert code == 1
    assert "line 1: rejected" in output
    assert "0 accepted, 0 duplicate, 1 rejected" in output
