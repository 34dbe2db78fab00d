"""``casemgmt verify``: intact chains pass; a row edited behind the store's back is named."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from store_helpers import notes

from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.sql.eventstore.verify import verify_chains
from casemgmt.adapters.sql.uow import SqlUnitOfWork

UowFactory = Callable[[], SqlUnitOfWork]


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEMGMT_DATABASE_URL": database_url}
    command = [
        sys.executable,
        "-c",
        "from casemgmt.entrypoints.cli.root import main; main()",
        *args,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


async def seed(new_uow: UowFactory) -> None:
    async with new_uow() as uow:
        await uow.events.append("case-1", "ofcom", notes(3), 0)
        await uow.events.append("case-2", "ico", notes(2), 0)
        await uow.events.append("case-1", "ofcom", notes(1), 3)
        await uow.commit()


async def test_intact_chains_verify(
    new_uow: UowFactory, engine: AsyncEngine, codec: EventCodec, database_url: str
) -> None:
    await seed(new_uow)

    report = await verify_chains(engine, codec)
    cli = run_cli(database_url, "verify")

    assert report.ok
    assert (report.events, report.cases, report.broken_cases) == (6, 2, 0)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == "OK: 6 events in 2 cases"


async def test_an_edited_row_is_named(
    new_uow: UowFactory, engine: AsyncEngine, backend: str, database_url: str
) -> None:
    await seed(new_uow)
    async with engine.begin() as conn:
        target = (
            await conn.execute(
                text(
                    "SELECT event_id, position FROM events WHERE case_id = 'case-1' AND version = 2"
                )
            )
        ).one()
        # Tampering needs the append-only trigger out of the way first.
        await conn.execute(
            text("DROP TRIGGER events_no_update" + (" ON events" if backend == "postgres" else ""))
        )
        await conn.execute(
            text("UPDATE events SET data = :data WHERE event_id = :id"),
            {
                "data": '{"type":"test_note_added","occurred_on":"2026-01-05","text":"forged"}',
                "id": target.event_id,
            },
        )

    report = await verify_chains(engine)
    cli = run_cli(database_url, "verify")

    assert report.first_break is not None
    assert (report.first_break.event_id, report.first_break.version) == (target.event_id, 2)
    assert report.first_break.position == target.position
    assert "altered" in report.first_break.problem
    assert report.broken_cases == 1
    assert cli.returncode == 1
    assert f"BROKEN: event {target.event_id} (case case-1, version 2" in cli.stderr


async def test_db_upgrade_is_idempotent(database_url: str) -> None:
    cli = run_cli(database_url, "db", "upgrade")

    assert cli.returncode == 0, cli.stderr
