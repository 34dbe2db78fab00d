"""The ``make bench`` summary on synthetic figures: ratios, targets, missing figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench import __main__ as harness
from bench.summary import DASH, figures_of, render, summarize


def _fig(value: float, unit: str = "events/s") -> dict[str, Any]:
    return {"value": value, "unit": unit}


SECTIONS: dict[str, Any] = {
    "floors": {
        "figures": {
            "floor_asyncpg_insert_x1": _fig(2000),
            "floor_asyncpg_insert_x8": _fig(4000),
            "floor_litestar_insert": _fig(1600, "requests/s"),
        }
    },
    "peer": {"figures": {"peer_eventsourcing_x1": _fig(500), "peer_eventsourcing_x8": _fig(400)}},
    "store": {"figures": {"commands_x1": _fig(1250), "commands_x8": _fig(3000)}},
    "http": {"figures": {"http_post_1": _fig(1200), "http_post_1_p99_ms": _fig(61, "ms")}},
}


def _rows() -> dict[str, dict[str, Any]]:
    return {row["figure"]: row for row in summarize(figures_of(SECTIONS))}


def test_ratios_are_to_the_peer_and_the_floor_of_the_same_run() -> None:
    rows = _rows()
    assert rows["commands_x8"]["peer_ratio"] == pytest.approx(3000 / 400)
    assert rows["commands_x8"]["floor_ratio"] == pytest.approx(3000 / 4000)
    assert rows["commands_x1"]["peer_ratio"] == pytest.approx(1250 / 500)
    assert rows["http_post_1"]["floor_ratio"] == pytest.approx(1200 / 1600)


def test_targets_met_not_met_and_unknown() -> None:
    rows = _rows()
    assert rows["commands_x8"]["met"] is True  # 7.5x peer and 75% of the floor
    assert rows["commands_x1"]["met"] is False  # 2.5x, target 3x
    assert rows["http_post_1"]["met"] is True
    assert rows["http_post_1_p99_ms"]["met"] is False  # 61 ms, target < 50
    assert rows["queue_p99_ms"]["value"] is None
    assert rows["queue_p99_ms"]["met"] is None  # its section did not run


def test_a_missing_denominator_leaves_the_ratio_out_not_the_target() -> None:
    sections = {**SECTIONS, "floors": {"figures": {}}}
    rows = {row["figure"]: row for row in summarize(figures_of(sections))}
    assert rows["commands_x8"]["floor_ratio"] is None
    assert rows["commands_x8"]["met"] is None  # 6x peer met, the floor part unknown
    assert rows["commands_x1"]["met"] is False  # one failed part is enough


def test_render_prints_every_row_with_dashes_for_missing_figures() -> None:
    rows = summarize(figures_of(SECTIONS))
    text = render(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + len(rows)
    queue = next(line for line in lines if line.startswith("deadline queue p99"))
    assert DASH in queue
    assert "NOT MET" in next(line for line in lines if line.startswith("commands, 1 writer"))


def test_harness_writes_the_summary_for_sections_run_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "RESULTS", tmp_path / "results.json")
    (tmp_path / "results.json").write_text(json.dumps({"store": SECTIONS["store"]}))
    outputs = {"floors": SECTIONS["floors"], "http": SECTIONS["http"]}
    monkeypatch.setattr(harness, "run_section", lambda name: dict(outputs[name]))
    assert harness.main(["floors", "http"]) == 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["summary"]["sections"] == ["floors", "http"]
    rows = {row["figure"]: row for row in written["summary"]["rows"]}
    assert rows["http_post_1"]["floor_ratio"] == pytest.approx(0.75)
    assert rows["commands_x8"]["value"] is None  # store's old figures are not this run's
    assert "store" in written  # but its section's results stay in the file


def test_unknown_section_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert harness.main(["nope"]) == 2
    assert "nope" in capsys.readouterr().err
