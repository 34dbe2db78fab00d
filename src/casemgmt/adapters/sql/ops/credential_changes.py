"""``CredentialChanges`` on PostgreSQL: ``LISTEN casemgmt_credentials`` (migration 0013).

One connection per process, outside the pool, opened on first use from the event loop
that uses it (an API worker's). Its generation moves on every notification (a trigger
notifies on any change to ``api_keys`` when the change commits), whenever this process
says it changed a credential, and when the connection is (re)opened. While it is not
open (not yet, lost, or a failed attempt waiting ``retry_seconds`` to try again), and on
a schema without the trigger, there is no generation and callers read the database. A
connection the server closes is noticed by the event loop at once; one that silently
stops delivering (a broken network path) is why callers also bound how long they keep
anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.observability.logs import get_logger

__all__ = ["CHANNEL", "PgCredentialChanges", "credential_changes"]

CHANNEL = "casemgmt_credentials"
#: Whether the trigger that notifies the channel is there (migration 0013).
_ANNOUNCED = """SELECT EXISTS (SELECT 1 FROM pg_trigger
    WHERE tgname = 'api_keys_changed' AND tgrelid = to_regclass('api_keys'))"""
_log = get_logger(__name__)


class PgCredentialChanges:
    """The generation of credentials as this process last heard (see module doc)."""

    def __init__(self, dsn: str, *, retry_seconds: float = 1.0, timeout: float = 5.0) -> None:
        self._dsn = dsn
        self._retry_seconds = retry_seconds
        self._timeout = timeout
        self._generation = 0
        self._conn: asyncpg.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Task[None] | None = None
        self._retry_at = 0.0

    def generation(self) -> int | None:
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is not None and self._loop is loop and not conn.is_closed():
            return self._generation
        self._open_soon(loop)
        return None

    def changed(self) -> None:
        self._generation += 1

    async def listening(self) -> bool:
        """Open the connection now if it is not open (and may be tried); whether it is."""
        if self.generation() is None and self._opening is not None:
            await asyncio.shield(self._opening)
        return self.generation() is not None

    def _open_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._conn is not None:  # closed, or another loop's (tests): start again
            self._drop()
        opening = self._opening
        if opening is not None and not opening.done() and opening.get_loop() is loop:
            return
        if time.monotonic() < self._retry_at:
            return
        self._opening = loop.create_task(self._open(loop))

    async def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(
                self._dsn,
                timeout=self._timeout,
                server_settings={"application_name": "casemgmt-credentials"},
            )
            await conn.add_listener(CHANNEL, self._notified)
            announced = await conn.fetchval(_ANNOUNCED)
        except Exception as exc:  # any failure to listen: read keys, try again later
            self._give_up(conn, type(exc).__name__)
            return
        if not announced:  # a schema before 0013: nothing would ever be heard
            self._give_up(conn, "no api_keys_changed trigger (run casemgmt db upgrade)")
            return
        conn.add_termination_listener(self._lost)
        # LISTEN is in place: a change committed from now on is heard, and a key read
        # from now on is at least as new as anything heard so far.
        self._generation += 1
        self._conn, self._loop = conn, loop

    def _give_up(self, conn: asyncpg.Connection | None, reason: str) -> None:
        self._retry_at = time.monotonic() + self._retry_seconds
        _log.warning("credentials.listen_failed", reason=reason)
        if conn is not None:
            conn.terminate()

    def _notified(self, *_: Any) -> None:
        self._generation += 1

    def _lost(self, conn: Any) -> None:
        if conn is self._conn:
            self._conn = None
            self._generation += 1
            _log.warning("credentials.listen_lost")

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._generation += 1
        if conn is not None:
            with contextlib.suppress(Exception):  # another loop's, maybe closed
                conn.terminate()

    async def aclose(self) -> None:
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            opening.cancel()
            with contextlib.suppress(BaseException):
                await opening
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                if self._loop is asyncio.get_running_loop():
                    await asyncio.wait_for(conn.close(), self._timeout)
                else:
                    conn.terminate()
            except Exception:
                conn.terminate()


def credential_changes(engine: AsyncEngine) -> PgCredentialChanges | None:
    """The watch for ``engine``'s database: PostgreSQL only (SQLite has no
    notifications)."""
    if engine.dialect.name != "postgresql":
        return None
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PgCredentialChanges(dsn)
