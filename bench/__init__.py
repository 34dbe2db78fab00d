"""Benchmarks: ``python -m bench [--quick] [SECTION ...]`` (``make bench``).

Each section is a module with ``run() -> dict`` that prints its own table and returns
``{"figures": {name: {"value": float, "unit": str}}, ...}``; the runner merges what each
returns into ``bench/results.json`` under the section's name and prints the summary
(``bench.summary``: ratios to the peer and the floors, the issue's targets).
"""

from __future__ import annotations

import os

__all__ = ["figure", "postgres_url", "scale", "scaled"]


def scale() -> float:
    """``CASEMGMT_BENCH_SCALE`` (default 1.0): sections multiply their sizes by it."""
    return float(os.environ.get("CASEMGMT_BENCH_SCALE", "1") or 1)


def scaled(n: int, minimum: int = 1) -> int:
    """``n`` times :func:`scale`, at least ``minimum``."""
    return max(minimum, round(n * scale()))


def postgres_url() -> str | None:
    """The server every section uses (``CASEMGMT_BENCH_POSTGRES_URL``, else the tests')."""
    return os.environ.get("CASEMGMT_BENCH_POSTGRES_URL") or os.environ.get(
        "CASEMGMT_TEST_POSTGRES_URL"
    )


def figure(value: float, unit: str) -> dict[str, float | str]:
    """One entry of a section's ``figures``."""
    return {"value": round(float(value), 3), "unit": unit}
