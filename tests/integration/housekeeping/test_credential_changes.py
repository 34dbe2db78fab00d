"""API keys kept in memory on PostgreSQL, and what makes a process let go of them: the
``casemgmt_credentials`` notification of any change to ``api_keys`` (migration 0013), and
losing the listening connection. Two containers on one database stand for two API
processes. Each test keeps keys for an hour (``CASEMGMT_KEY_CACHE_SECONDS``), so only a
notification or a lost connection can make a process read a key again.

To show that a process really answers from memory, some revocations are written with
triggers off (``session_replication_role = replica``): no notification, so the process
that kept the key still accepts it; that is the case the notification is there for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from casemgmt.adapters.clock import SystemClock
from casemgmt.adapters.sql.ops.credential_changes import PgCredentialChanges
from casemgmt.application.auth import Role
from casemgmt.bootstrap import Container, build_container
from casemgmt.settings import ApiSettings, DatabaseSettings, Settings, WorkerSettings

#: Waits for something the database sends (a notification, a closed socket): bounded,
#: never timed; a notification that never comes fails the test at the bound.
ROUNDS, PAUSE = 500, 0.01


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def two(database_url: str, backend: str) -> AsyncIterator[tuple[Container, Container]]:
    if backend != "postgres":
        pytest.skip("SQLite has no notifications: every request reads its key there")
    settings = Settings(
        database=DatabaseSettings(url=database_url),
        api=ApiSettings(key_cache_seconds=3600),
        worker=WorkerSettings(broker_url=""),
    )
    a = build_container(settings, clock=SystemClock())
    b = build_container(settings, clock=SystemClock())
    try:
        yield a, b
    finally:
        await a.aclose()
        await b.aclose()


def _watch(c: Container) -> PgCredentialChanges:
    assert isinstance(c.credential_changes, PgCredentialChanges)
    return c.credential_changes


async def _sql(url: str, sql: str, *, triggers: bool = True) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        if not triggers:
            await conn.execute("SET session_replication_role = replica")
        await conn.execute(sql)
    finally:
        await conn.close()


async def _kept(c: Container) -> str:
    """A new key that ``c`` has read and keeps (it listens)."""
    issued = await c.access.create_key(None, "kept", Role.WRITER, None)
    assert await _watch(c).listening()
    assert await c.access.authenticate(issued.token) is not None
    return issued.token


async def _next_generation(watch: PgCredentialChanges, seen: int | None) -> None:
    for _ in range(ROUNDS):
        if watch.generation() not in (seen, None):
            return
        await asyncio.sleep(PAUSE)
    raise AssertionError("the credential change was never heard")


async def test_a_kept_key_is_answered_from_memory(
    two: tuple[Container, Container], database_url: str
) -> None:
    a, _ = two
    token = await _kept(a)
    key_id = token.split("_")[1]
    await _sql(
        database_url, f"UPDATE api_keys SET revoked_at = now() WHERE key_id = '{key_id}'",
        triggers=False,
    )  # fmt: skip
    assert await a.access.authenticate(token) is not None  # no notification: still kept


async def test_a_key_revoked_in_another_process_is_refused_once_heard(
    two: tuple[Container, Container],
) -> None:
    a, b = two
    token = await _kept(a)
    seen = _watch(a).generation()
    await b.access.revoke_key(None, token.split("_")[1])
    await _next_generation(_watch(a), seen)
    assert await a.access.authenticate(token) is None


async def test_a_key_revoked_by_hand_in_sql_is_refused_once_heard(
    two: tuple[Container, Container], database_url: str
) -> None:
    a, _ = two
    token = await _kept(a)
    seen = _watch(a).generation()
    key_id = token.split("_")[1]
    await _sql(database_url, f"UPDATE api_keys SET revoked_at = now() WHERE key_id = '{key_id}'")
    await _next_generation(_watch(a), seen)
    assert await a.access.authenticate(token) is None


async def test_a_deleted_key_is_refused_once_heard(
    two: tuple[Container, Container], database_url: str
) -> None:
    a, _ = two
    token = await _kept(a)
    seen = _watch(a).generation()
    await _sql(database_url, f"DELETE FROM api_keys WHERE key_id = '{token.split('_')[1]}'")
    await _next_generation(_watch(a), seen)
    assert await a.access.authenticate(token) is None


async def test_after_the_listening_connection_is_lost_kept_keys_are_read_again(
    two: tuple[Container, Container], database_url: str
) -> None:
    a, _ = two
    token = await _kept(a)
    key_id = token.split("_")[1]
    seen = _watch(a).generation()
    await _sql(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'casemgmt-credentials' AND datname = current_database()",
    )
    # Revoked while nobody listens (and with no notification at all): only reading the
    # key again can tell; the kept one must not be used after the connection is lost.
    await _sql(
        database_url, f"UPDATE api_keys SET revoked_at = now() WHERE key_id = '{key_id}'",
        triggers=False,
    )  # fmt: skip
    await _next_generation(_watch(a), seen)  # the loop saw the socket close; listens again
    assert await a.access.authenticate(token) is None


async def test_without_the_trigger_nothing_is_kept(
    two: tuple[Container, Container], database_url: str
) -> None:
    a, _ = two
    await _sql(database_url, "DROP TRIGGER api_keys_changed ON api_keys")
    issued = await a.access.create_key(None, "unannounced", Role.WRITER, None)
    assert not await _watch(a).listening()
    assert await a.access.authenticate(issued.token) is not None
    await _sql(
        database_url,
        f"UPDATE api_keys SET revoked_at = now() WHERE key_id = '{issued.key.key_id}'",
    )
    assert await a.access.authenticate(issued.token) is None  # read again: nothing kept
