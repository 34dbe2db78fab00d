"""Finding 8: tamper evidence an insider cannot re-seal.

The API connects to PostgreSQL as the app role, which cannot disable the append-only
triggers, alter or truncate ``events``; the chain is keyed (HMAC, key outside the
database), so rewriting a row and re-computing a plain SHA-256 chain is caught; each
case's head is cross-checked against its summary and signed checkpoints, so deleting a
case's last event is caught too. Rows sealed before keys (plain) and with a rotated-out
key still verify.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from casemgmt.adapters.codec import canonical_bytes, chain_hash
from casemgmt.adapters.sql.eventstore.tables import events
from casemgmt.application.auth import Role
from tests.support.server import LiveServer, app_url, live_server

KEY_A = "a2026=" + "A" * 40
KEY_B = "b2027=" + "B" * 40


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_CHAIN_KEYS": KEY_A}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def cli(database_url: str, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CASEMGMT_DATABASE_URL": database_url, "CASEMGMT_CHAIN_KEYS": keys}
    command = [sys.executable, "-c", "from casemgmt.entrypoints.cli.root import main; main()"]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120)


def open_case_with_notes(server: LiveServer, notes: int) -> str:
    case_id = f"ofcom-tamper-{uuid.uuid4().hex[:8]}"
    with server.client(server.key(Role.WRITER, ["ofcom"])) as writer:
        opened = writer.post(
            "/v1/cases",
            json={"case_id": case_id, "regulator": "ofcom", "regime": "osa-2023",
                  "subject": "X Corp", "title": "Tamper", "opened_on": "2026-01-05"},
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
        for n in range(notes):
            note = {"type": "note_added", "occurred_on": "2026-01-06", "text": f"note {n}"}
            assert writer.post(f"/v1/cases/{case_id}/events", json=note).status_code == 201
    return case_id


async def _unguarded(conn: AsyncConnection) -> None:
    """What a superuser does first: switch the append-only triggers off."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SET session_replication_role = replica"))
    else:
        for name in ("events_no_update", "events_no_delete"):
            await conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))


async def _rewrite_and_reseal(url: str, case_id: str) -> None:
    """Forge version 2's payload and recompute the plain SHA-256 chain from there on."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _unguarded(conn)
            rows = (
                await conn.execute(
                    sa.select(events).where(events.c.case_id == case_id).order_by(events.c.version)
                )
            ).all()
            prev = rows[0].hash
            for row in rows[1:]:
                values = {c: getattr(row, c) for c in row._fields}
                if row.version == 2:
                    values["data"] = values["data"].replace("note 0", "forged")
                fields = {k: v for k, v in values.items()
                          if k not in ("position", "hash", "prev_hash")}  # fmt: skip
                digest = chain_hash(prev, canonical_bytes(**fields))
                await conn.execute(
                    sa.update(events)
                    .where(events.c.position == row.position)
                    .values(data=values["data"], prev_hash=prev, hash=digest)
                )
                prev = digest
    finally:
        await engine.dispose()


async def _delete_last(url: str, case_id: str, fix_summary: bool) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _unguarded(conn)
            last = sa.select(sa.func.max(events.c.version)).where(events.c.case_id == case_id)
            version = (await conn.execute(last)).scalar_one()
            await conn.execute(
                sa.delete(events).where(events.c.case_id == case_id, events.c.version == version)
            )
            if fix_summary:
                await conn.execute(
                    sa.text("UPDATE case_summary SET version = :v WHERE case_id = :c"),
                    {"v": version - 1, "c": case_id},
                )
    finally:
        await engine.dispose()


def test_a_rewritten_row_with_a_recomputed_plain_chain_fails_verify(server: LiveServer) -> None:
    case_id = open_case_with_notes(server, 3)
    assert cli(server.database_url, KEY_A, "verify").returncode == 0
    asyncio.run(_rewrite_and_reseal(server.database_url, case_id))
    result = cli(server.database_url, KEY_A, "verify")
    assert result.returncode == 1
    assert case_id in result.stderr


@pytest.mark.parametrize("fix_summary", [False, True])
def test_deleting_a_case_s_last_event_fails_verify(server: LiveServer, fix_summary: bool) -> None:
    case_id = open_case_with_notes(server, 2)
    signed = cli(server.database_url, KEY_A, "checkpoint")
    assert signed.returncode == 0, signed.stderr
    asyncio.run(_delete_last(server.database_url, case_id, fix_summary))
    result = cli(server.database_url, KEY_A, "verify")
    assert result.returncode == 1
    assert case_id in result.stderr


def test_plain_rows_from_before_keys_and_rotated_keys_still_verify(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = tmp_path_factory.mktemp("rotation")
    url = database_url
    for keys in ("", KEY_A, f"{KEY_B},{KEY_A}"):  # unkeyed, keyed, rotated to b2027
        with live_server(url, logs, {"CASEMGMT_CHAIN_KEYS": keys}) as srv:
            open_case_with_notes(srv, 1)
        verified = cli(url, keys or KEY_A, "verify")
        assert verified.returncode == 0, verified.stderr
    assert cli(url, KEY_B, "verify").returncode == 1  # a2026 rows need the a2026 key


@pytest.mark.parametrize(
    "statement",
    [
        "SET session_replication_role = replica",
        "ALTER TABLE events DISABLE TRIGGER events_no_update",
        "DROP TRIGGER events_no_delete ON events",
        "TRUNCATE events",
        "UPDATE events SET actor = 'x'",
        "DELETE FROM events",
        "DELETE FROM chain_checkpoints",
        # A partition is a table of its own: the grants on events do not cover it.
        "DELETE FROM events_history",
        "UPDATE events_history SET actor = 'x'",
        "TRUNCATE events_history",
        "DELETE FROM events_default",
        "DELETE FROM {next_month}",
        "UPDATE {next_month} SET actor = 'x'",
        "TRUNCATE {next_month}",
        "ALTER TABLE events DETACH PARTITION {next_month}",
        "UPDATE event_ids SET position = 0",
        "DELETE FROM event_ids",
        "TRUNCATE event_ids",
        "DELETE FROM event_streams",
        "TRUNCATE event_streams",
    ],
)
def test_the_app_role_cannot_switch_off_or_bypass_append_only(
    server: LiveServer, statement: str
) -> None:
    if not server.database_url.startswith("postgresql"):
        pytest.skip("database roles are PostgreSQL's")
    # Made ahead by the migration (the current month may be the history's).
    sql = statement.format(next_month=_month_partition(1))

    with pytest.raises(sa.exc.DBAPIError) as refused:
        asyncio.run(_as_app_role(server, sql))
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


def _month_partition(months_ahead: int) -> str:
    now = datetime.now(UTC)
    year, month = divmod(now.month - 1 + months_ahead, 12)
    return f"events_y{now.year + year:04d}m{month + 1:02d}"


async def _as_app_role(server: LiveServer, sql: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(app_url(server.database_url))
    try:
        async with engine.begin() as conn:
            result = await conn.execute(sa.text(sql))
            return [tuple(r) for r in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


def test_the_app_role_creates_months_ahead_it_cannot_then_change(server: LiveServer) -> None:
    """The worker, connected as the app role, keeps partitions ahead through the owner's
    function; what that creates refuses the app role UPDATE, DELETE and TRUNCATE too."""
    if not server.database_url.startswith("postgresql"):
        pytest.skip("database roles are PostgreSQL's")
    made = _month_partition(7)
    ensured = asyncio.run(_as_app_role(server, "SELECT * FROM events_ensure_partitions(7)"))
    assert (made, "created") in ensured or (made, "exists") in ensured
    for sql in (f"DELETE FROM {made}", f"UPDATE {made} SET actor = 'x'", f"TRUNCATE {made}"):
        with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
            asyncio.run(_as_app_role(server, sql))
