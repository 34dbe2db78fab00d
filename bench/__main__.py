"""Run the benchmark sections, then print one table of figures, ratios and targets.

``python -m bench [--quick] [SECTION ...]`` (``make bench`` runs every section, in one
invocation, on the same PostgreSQL server: ``CASEMGMT_BENCH_POSTGRES_URL``, else
``CASEMGMT_TEST_POSTGRES_URL``). A section is a module exposing ``run() -> dict`` (it owns
its event loop and resources, creates and drops databases of its own named ``bench_*``,
prints its own table) whose dict holds ``"figures": {name: {"value", "unit"}}``.
Each section's dict is merged into ``bench/results.json`` under its name; after all
sections ran, the summary (``bench.summary``: each figure's ratio to the eventsourcing
peer and to the floors measured in this same run, and the issue's targets) is printed
and written under ``summary``. Only figures of sections run in this invocation count: a
section not run (or not present yet) shows as an em dash, never a stale figure.
``--quick`` sets ``CASEMGMT_BENCH_SCALE=0.05`` (a smoke run) unless it is set already.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.summary import figures_of, render, summarize

#: Section name -> module, in run order (floors first: they calibrate the machine).
SECTIONS: dict[str, str] = {
    "floors": "bench.floors",
    "peer": "bench.peer",
    "store": "bench.store",
    "http": "bench.http",
    "bulk": "bench.bulk",
    "reminders": "bench.reminders",
}

RESULTS = Path(__file__).with_name("results.json")


def main(argv: list[str]) -> int:
    if "--quick" in argv:
        os.environ.setdefault("CASEMGMT_BENCH_SCALE", "0.05")
    names = [a for a in argv if a != "--quick"]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {unknown}; known: {list(SECTIONS)}", file=sys.stderr)
        return 2
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    ran: dict[str, Any] = {}
    for name in names or list(SECTIONS):
        print(f"\n== {name}", flush=True)
        section = run_section(name)
        ran[name] = results[name] = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **section}
        _write(results)
    rows = summarize(figures_of(ran))
    print(f"\n== summary (sections run now: {', '.join(ran)})")
    print(render(rows))
    results["summary"] = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sections": list(ran),
        "scale": float(os.environ.get("CASEMGMT_BENCH_SCALE", "1") or 1),
        "rows": rows,
    }
    _write(results)
    return 0


def run_section(name: str) -> dict[str, Any]:
    """The section's results; a missing module or a failure is recorded, not raised, so
    one broken section never hides the others' figures."""
    try:
        module = importlib.import_module(SECTIONS[name])
    except ModuleNotFoundError as exc:
        if exc.name != SECTIONS[name]:
            raise
        print(f"not present yet ({SECTIONS[name]})")
        return {"skipped": "module not present", "figures": {}}
    started = time.perf_counter()
    try:
        section: dict[str, Any] = module.run()
    except Exception as exc:
        traceback.print_exc()
        return {"error": f"{type(exc).__name__}: {exc}", "figures": {}}
    section.setdefault("figures", {})
    section["seconds"] = round(time.perf_counter() - started, 1)
    return section


def _write(results: dict[str, Any]) -> None:
    results["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    tmp.replace(RESULTS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
