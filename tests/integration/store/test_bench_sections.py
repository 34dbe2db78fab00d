"""The ``peer`` and ``store`` bench sections run at a tiny scale and return their figures
(names per the bench contract; no timing is asserted, only that they were measured)."""

from __future__ import annotations

import pytest
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="the sections measure PostgreSQL")


@pytest.mark.parametrize(
    ("section", "names"),
    [
        ("peer", {"peer_eventsourcing_x1", "peer_eventsourcing_x8", "peer_eventsourcing_read"}),
        ("store", {"commands_x1", "commands_x8"}),
    ],
)
def test_section_returns_its_figures(
    section: str, names: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    monkeypatch.setenv("CASEMGMT_BENCH_SCALE", "0.016")  # 8 cases: 80 events per run
    monkeypatch.setenv("CASEMGMT_BENCH_POSTGRES_URL", PG_URL)
    result = importlib.import_module(f"bench.{section}").run()
    figures = result["figures"]
    assert set(figures) == names
    assert all(f["value"] > 0 and f["unit"] == "events/s" for f in figures.values())
    assert result["cases"] == 8
