"""``casemgmt serve --workers N``: the API as production runs it, N worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.support.server import ROOT, free_port

from casemgmt.adapters.sql.migrations import upgrade_to_head


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def test_serve_runs_the_api_with_the_workers_asked_for(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'serve.sqlite'}"
    upgrade_to_head(url)
    port = free_port()
    env = {**os.environ, "CASEMGMT_DATABASE_URL": url, "CASEMGMT_BROKER_URL": "",
           "CASEMGMT_PORT": str(port), "CASEMGMT_HOST": "127.0.0.1",
           "CASEMGMT_LOG_LEVEL": "WARNING"}  # fmt: skip
    casemgmt = str(Path(sys.executable).parent / "casemgmt")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [casemgmt, "serve", "--workers", "2"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        deadline, answered = time.monotonic() + 60, False
        while time.monotonic() < deadline and not answered:
            assert process.poll() is None, log.read_text()
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered, log.read_text()
        # uvicorn's supervisor (this very process: serve execs it) runs 2 worker processes.
        deadline = time.monotonic() + 30
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _children(process.pid)
        assert len(workers) >= 2, log.read_text()
        commands = [Path(f"/proc/{p}/cmdline").read_bytes() for p in workers]
        assert all(b"multiprocessing" in c or b"uvicorn" in c for c in commands)
        assert b"--workers\x002" in Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert b"uvloop" in Path(f"/proc/{process.pid}/cmdline").read_bytes()
    finally:
        process.terminate()
        process.wait(timeout=30)
