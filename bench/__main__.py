"""Run the benchmark sections and merge their results into ``bench/results.json``.

Adding a section is one line in ``SECTIONS``: a module exposing ``run() -> dict`` (it owns
its event loop and resources, prints a table, returns JSON-serialisable results).
``python -m bench store`` runs only the named sections; other sections' results stay.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

SECTIONS: dict[str, str] = {
    "store": "bench.store",
    "reminders": "bench.reminders",
    "http": "bench.http",
}

RESULTS = Path(__file__).with_name("results.json")


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {unknown}; known: {sorted(SECTIONS)}", file=sys.stderr)
        return 2
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in argv or list(SECTIONS):
        print(f"\n== {name}")
        section = importlib.import_module(SECTIONS[name]).run()
        results[name] = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **section}
        _write(results)
    return 0


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
