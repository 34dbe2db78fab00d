"""Which errors mean "a dependency is unavailable, retry later" rather than "a bug".

:func:`unavailable_dependency` looks at an exception and its whole cause chain (the
driver error SQLAlchemy wraps, the socket error under a broker error) and names the
dependency that is down: ``"database"`` or ``"broker"``, or None for anything else. The
HTTP layer answers the named cases with 503 and ``Retry-After`` instead of 500.

Database: refused or dropped connections (``OSError``), a connection SQLAlchemy found
dead (``connection_invalidated``), pool exhaustion, PostgreSQL SQLSTATE classes 08
(connection exception), 57P (shutdown, starting up), 53 (too many connections), and
40001/40P01 (serialization failure, deadlock: the transaction was rolled back whole and
can simply be retried); SQLite's "database is locked"/"busy" after the busy timeout.
Broker: kombu's ``OperationalError``, redis' and amqp's connection errors.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from typing import Literal

import sqlalchemy.exc as sa_exc

__all__ = ["Dependency", "unavailable_dependency"]

Dependency = Literal["database", "broker"]

_BROKER_MODULES = ("kombu.", "redis.", "amqp.", "celery.")
_BROKER_ERRORS = frozenset(
    {"OperationalError", "ConnectionError", "TimeoutError", "RecoverableConnectionError"}
)
_TRANSIENT_SQLSTATES = ("08", "57P", "53", "40001", "40P01")
_NETWORK_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}
)
_SQLITE_TRANSIENT = ("database is locked", "database is busy", "unable to open database")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend([item.__cause__, item.__context__, getattr(item, "orig", None)])


def _is_broker(exc: BaseException) -> bool:
    module = type(exc).__module__ + "."
    if not module.startswith(_BROKER_MODULES):
        return False
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & _BROKER_ERRORS)


def _is_database(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if isinstance(exc, sa_exc.InterfaceError):
        return True
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_TRANSIENT_SQLSTATES):
        return True
    if type(exc).__module__.startswith("asyncpg") and type(exc).__name__ in (
        "InterfaceError",
        "ConnectionDoesNotExistError",
        "InternalClientError",
    ):
        return "connection" in str(exc).lower()
    if isinstance(exc, sa_exc.OperationalError):
        return any(text in str(exc).lower() for text in _SQLITE_TRANSIENT)
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


def unavailable_dependency(exc: BaseException) -> Dependency | None:
    """``"broker"``/``"database"`` when ``exc`` means that dependency is down, else None."""
    chain = list(_chain(exc))
    if any(_is_broker(item) for item in chain):
        return "broker"
    if any(_is_database(item) for item in chain):
        return "database"
    return None
