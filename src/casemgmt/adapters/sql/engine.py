"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg), configured for the store.

SQLite runs in WAL mode so readers never block the writer. SQLAlchemy, not the driver,
emits ``BEGIN``: a connection marked with :data:`WRITE` (see :func:`connect_for_write`)
starts ``BEGIN IMMEDIATE``, taking the database's single write lock up front, so writers
queue on ``busy_timeout`` instead of failing with ``SQLITE_BUSY`` when a read transaction
tries to upgrade, and positions are allocated in commit order. Every other transaction is
``BEGIN DEFERRED`` and reads a WAL snapshot without taking the write lock.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Literal
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = [
    "BEGIN_OPTION",
    "WRITE",
    "Dialect",
    "autocommit_reads",
    "connect_for_write",
    "create_engine",
    "dialect_of",
    "install_sqlite_hooks",
    "ping",
    "sqlite_writer_lock",
]

Dialect = Literal["sqlite", "postgresql"]

#: The execution option the ``begin`` hook reads to choose SQLite's ``BEGIN`` mode.
BEGIN_OPTION = "casemgmt_sqlite_begin"
#: Execution options of a connection whose transactions write (``BEGIN IMMEDIATE``).
WRITE: dict[str, Any] = {BEGIN_OPTION: "IMMEDIATE"}

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: A pooled connection is pinged before use only when it has been idle this long (one the
#: driver knows is closed is replaced whatever its age): under load every checkout would
#: otherwise pay a round trip for the ping.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "casemgmt_idle_since"

_WRITER_LOCKS: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()
#: PostgreSQL engines whose statements may run outside a transaction (autocommit reads):
#: not behind PgBouncer's transaction pooling (``statement_cache=False``), where a
#: statement's prepare and execute could reach two different server connections.
_AUTOCOMMIT_READS: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    pre_ping: bool = True,
    statement_cache: bool = True,
) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    ``pre_ping`` tests each pooled connection as it is checked out (closed by the server,
    or idle long enough to ping: ``install_idle_ping``) and replaces a dead one (and, on
    the first dead one, every connection older than it), so a database restart costs no
    request once the server is back. ``statement_cache=False`` turns asyncpg's
    prepared-statement caches off, as PgBouncer in transaction pooling mode requires.
    Raises ``ValueError`` for any other driver: the store relies on both dialects' exact
    transaction behaviour and nothing else is tested. Statement parameters (webhook
    secrets, key hashes, case text) never appear in database errors or their logs.
    """
    drivername = make_url(url).drivername
    common: dict[str, Any] = {
        "echo": echo,
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "hide_parameters": True,
    }
    if drivername == "sqlite+aiosqlite":
        engine = create_async_engine(url, **common)
        install_sqlite_hooks(engine.sync_engine)
    elif drivername == "postgresql+asyncpg":
        engine = create_async_engine(url, **common, connect_args=_asyncpg_args(statement_cache))
        _AUTOCOMMIT_READS[engine.sync_engine] = statement_cache
    else:
        raise ValueError(f"unsupported database URL driver {drivername!r}")
    if pre_ping:
        install_idle_ping(engine.sync_engine)
    return engine


def install_idle_ping(sync_engine: Engine) -> None:
    """Test a connection at checkout, cheaply: one the driver already knows is closed (a
    restarted or killed server closes its sockets, and the event loop sees it at once) is
    replaced with no round trip; one idle for ``PING_AFTER_IDLE_SECONDS`` or more is
    pinged. Either failure invalidates it and every older pooled connection, then
    reconnects. (SQLAlchemy's own ``pool_pre_ping`` pings every checkout: a round trip
    each, two or three per request.)"""
    dialect = sync_engine.dialect

    def on_connect(_dbapi: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkin(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(dbapi: Any, record: Any, proxy: Any) -> None:
        is_closed = getattr(proxy.driver_connection, "is_closed", None)
        if is_closed is not None and is_closed():
            raise exc.InvalidatePoolError("the connection was closed by the server")
        if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi)
        except Exception as error:
            raise exc.InvalidatePoolError(f"ping failed: {type(error).__name__}") from error
        if not alive:
            raise exc.InvalidatePoolError("ping failed")
        record.info[_IDLE_SINCE] = time.monotonic()

    event.listen(sync_engine, "connect", on_connect)
    event.listen(sync_engine, "checkin", on_checkin)
    event.listen(sync_engine, "checkout", on_checkout)


def _asyncpg_args(statement_cache: bool) -> dict[str, Any]:
    # JIT compilation costs tens of ms on the large scans the feed planner
    # estimates; the store's queries are short index scans that never gain.
    settings = {"jit": "off", "application_name": "casemgmt"}
    args: dict[str, Any] = {
        "server_settings": settings,
        # A connection attempt to a host that is down fails in bounded time.
        "timeout": 10,
    }
    if not statement_cache:
        # Behind PgBouncer: it refuses startup parameters it does not track (``jit``);
        # docs/operations.md has the role turn JIT off instead (ALTER ROLE ... SET jit).
        del settings["jit"]
        args["statement_cache_size"] = 0
        args["prepared_statement_cache_size"] = 0
        # Unique names: a pooled server connection may have seen another client's.
        args["prepared_statement_name_func"] = _unique_statement_name
    return args


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def install_sqlite_hooks(sync_engine: Engine) -> None:
    """Pragmas on every new connection, and SQLAlchemy-emitted ``BEGIN [IMMEDIATE]``."""
    event.listen(sync_engine, "connect", _on_sqlite_connect)
    event.listen(sync_engine, "begin", _on_sqlite_begin)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # None stops the driver from emitting its own BEGIN, so _on_sqlite_begin decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL itself may need to wait for a lock.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode is durable against application crashes and consistent
        # after power loss (the last commits may roll back); FULL would fsync each commit.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def dialect_of(bind: AsyncEngine | AsyncConnection) -> Dialect:
    """``"sqlite"`` or ``"postgresql"``; ``ValueError`` for anything else."""
    name = bind.dialect.name
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise ValueError(f"unsupported dialect {name!r}")


async def connect_for_write(engine: AsyncEngine) -> AsyncConnection:
    """A new connection whose transactions take the write lock at ``BEGIN`` on SQLite.

    The caller owns the connection (``await conn.close()``); no transaction is begun yet.
    """
    conn = await engine.connect()
    try:
        if dialect_of(conn) == "sqlite":
            await conn.execution_options(**WRITE)
    except BaseException:
        await conn.close()
        raise
    return conn


def autocommit_reads(engine: AsyncEngine) -> bool:
    """Whether a single read may run in autocommit on ``engine`` (PostgreSQL, not behind
    PgBouncer's transaction pooling): no ``BEGIN``/``ROLLBACK`` round trips around it."""
    return _AUTOCOMMIT_READS.get(engine.sync_engine, False)


def sqlite_writer_lock(engine: AsyncEngine) -> asyncio.Lock | None:
    """The lock that queues this engine's SQLite writers in-process; None on PostgreSQL.

    SQLite admits one writer at a time, and a writer blocked on ``busy_timeout`` polls
    with sleeps of up to 100 ms: eight writers on one engine would spend most of their
    time asleep. Queueing on an asyncio lock hands the database over at once; the busy
    timeout still arbitrates between processes. Use the engine on one event loop only.
    """
    if engine.dialect.name != "sqlite":
        return None
    lock = _WRITER_LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _WRITER_LOCKS[engine.sync_engine] = asyncio.Lock()
    return lock


async def ping(engine: AsyncEngine) -> None:
    """Reach the database once (``SELECT 1``); raises whatever the driver raises."""
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
