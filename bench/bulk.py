"""Bulk paths on PostgreSQL: NDJSON import, projection rebuild, chain verification.

A realistic log is generated first: the demo's synthetic cases (every shipped regime,
with their derived stage changes, statutory deadlines and reminder schedules) drawn again
under fresh seeds until the file holds about ``EVENTS`` lines, without ``event_id`` (so
the import derives ids, as most integrators' files do). Then, on a database of its own
(``bench_bulk_<pid>``), each step runs in a child process of its own, as an operator
runs the commands, and reports its wall time and peak RSS:

- ``import``: the file through ``ImportService`` (decide, append with the hash chain,
  inline projections and reminder schedules), streamed; events/s counts every event
  written (derived ones included), ``import_rss_mb`` the process's peak RSS;
- ``rebuild``: ``casemgmt projections rebuild`` of every projection;
- ``verify``: ``casemgmt verify`` (every chain, checkpoints, summaries).

``CASEMGMT_BENCH_SCALE`` (default 1.0) scales the log; ``CASEMGMT_BENCH_POSTGRES_URL``
(else ``CASEMGMT_TEST_POSTGRES_URL``) names the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

#: Lines in the generated file at scale 1.0 (about 1.3 events are written per line).
LINES = 150_000
CHAIN_KEY = "bench=" + "k" * 40


def _scale() -> float:
    return float(os.environ.get("CASEMGMT_BENCH_SCALE", "1.0"))


def _pg_url() -> str:
    return os.environ.get("CASEMGMT_BENCH_POSTGRES_URL") or os.environ.get(
        "CASEMGMT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )


def generate_lines(lines: int) -> Iterator[bytes]:
    """About ``lines`` NDJSON lines of whole synthetic cases (each case complete)."""
    from casemgmt.application.demo.synthetic import synthetic_cases

    encoder = msgspec.json.Encoder()
    written, round_ = 0, 0
    while written < lines:
        round_ += 1
        for case in synthetic_cases(seed=f"bench-{round_}"):
            case_id = f"{case.case_id}-b{round_}"  # stays in its regulator's namespace
            opened = msgspec.structs.replace(case.opened, case_id=case_id)
            yield encoder.encode(opened) + b"\n"
            for step in case.steps:
                obj = msgspec.json.decode(encoder.encode(step))
                obj["case_id"] = case_id
                yield encoder.encode(obj) + b"\n"
            written += 1 + len(case.steps)
            if written >= lines:
                return


def write_file(path: Path, lines: int) -> int:
    count = 0
    with path.open("wb") as out:
        for line in generate_lines(lines):
            out.write(line)
            count += 1
    return count


# -- the child process: one step, timed, with its peak RSS ---------------------------


async def _count_events(url: str) -> int:
    import sqlalchemy as sa

    from casemgmt.adapters.sql.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(sa.text("SELECT count(*) FROM events")) or 0)
    finally:
        await engine.dispose()


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended."""
    mine, theirs = (resource.getrusage(r) for r in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return mine.ru_utime + mine.ru_stime + theirs.ru_utime + theirs.ru_stime


def _child(step: str, url: str, file: str) -> None:
    """Run ``step`` against ``url`` (in this process) and print JSON with its figures."""
    from casemgmt.bootstrap import Operations, build_container
    from casemgmt.entrypoints.cli.importing import CLI_PRINCIPAL, validated_lines
    from casemgmt.settings import Settings

    os.environ["CASEMGMT_DATABASE_URL"] = url
    os.environ["CASEMGMT_CHAIN_KEYS"] = CHAIN_KEY
    settings = Settings.from_env()

    async def main() -> dict[str, Any]:
        container = build_container(settings)
        try:
            started = time.perf_counter()
            out: dict[str, Any] = {}
            if step == "import":
                counts: dict[str, int] = {}
                items = validated_lines(Path(file))
                async for result in container.imports.stream(CLI_PRINCIPAL, items):
                    counts[result.status] = counts.get(result.status, 0) + 1
                out["results"] = counts
            elif step == "rebuild":
                reports = await Operations(container).rebuild(())
                out["replayed"] = max(r.events for r in reports)
            elif step == "verify":
                report = await Operations(container).verify_chains()
                out["ok"] = report.ok
                out["verified"] = report.events
            elif step == "checkpoint":
                await Operations(container).checkpoint()
            out["seconds"] = time.perf_counter() - started
            return out
        finally:
            await container.aclose()

    before = _cpu()
    out = asyncio.run(main())
    after = resource.getrusage(resource.RUSAGE_SELF)
    out["rss_mb"] = after.ru_maxrss / 1024
    # This process's own CPU and its workers' (the rebuild forks; the database server's is
    # not counted): what the step would take on idle cores, where the wall time on a
    # shared machine can be several times it.
    out["cpu_seconds"] = _cpu() - before
    print(json.dumps(out))


def _run_child(step: str, url: str, file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.bulk", step, url, str(file)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.bulk {step} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the section -----------------------------------------------------------------------


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run() -> dict[str, Any]:
    from casemgmt.adapters.sql.migrations import upgrade_to_head

    base = _pg_url()
    name = f"bench_bulk_{os.getpid()}"
    url = base.rsplit("/", 1)[0] + "/" + name
    lines = max(200, int(LINES * _scale()))
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        upgrade_to_head(url)
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "bulk.ndjson"
            written = write_file(file, lines)
            size_mb = file.stat().st_size / 2**20
            print(f"generated {written:,} lines ({size_mb:.1f} MiB)")
            imported = _run_child("import", url, file)
            events = asyncio.run(_count_events(url))
            _run_child("checkpoint", url, file)
            rebuilt = _run_child("rebuild", url, file)
            verified = _run_child("verify", url, file)
        if not verified.get("ok"):
            raise RuntimeError("verify found a broken chain after the import")
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    figures = {
        "import": {"value": events / imported["seconds"], "unit": "events/s"},
        "import_rss_mb": {"value": imported["rss_mb"], "unit": "MB"},
        "rebuild": {"value": events / rebuilt["seconds"], "unit": "events/s"},
        "verify": {"value": verified["verified"] / verified["seconds"], "unit": "events/s"},
    }
    print(f"{'figure':<16}{'value':>14}  unit")
    for key, fig in figures.items():
        print(f"{key:<16}{fig['value']:>14,.0f}  {fig['unit']}")
    steps = {"import": imported, "rebuild": rebuilt, "verify": verified}
    print(f"{written:,} lines -> {events:,} events ({imported['results']})")
    for step, out in steps.items():
        print(
            f"{step}: {out['seconds']:.1f} s wall, {out['cpu_seconds']:.1f} s CPU in the client "
            f"({events / out['cpu_seconds']:,.0f} events per client CPU-second)"
        )
    return {
        "figures": figures,
        "lines": written,
        "events": events,
        "seconds": {step: out["seconds"] for step, out in steps.items()},
        "client_cpu_seconds": {step: out["cpu_seconds"] for step, out in steps.items()},
        "scale": _scale(),
    }


if __name__ == "__main__":
    if len(sys.argv) == 4:
        _child(sys.argv[1], sys.argv[2], sys.argv[3])
    else:
        print(json.dumps(run(), indent=2))
