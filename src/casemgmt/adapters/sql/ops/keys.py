"""Credentials in ``api_keys``, ``dashboard_sessions`` and ``feed_tokens`` (``KeyRepository``).

A dashboard session acts for a key or for a person (``users``, see ``ops.users``).

Every read goes to the database (primary-key lookups): nothing is cached in a process,
so a revocation is seen by every API process on its next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.engine import autocommit_reads
from casemgmt.adapters.sql.ops.users import user_from, users
from casemgmt.adapters.sql.readmodels.tables import api_keys, dashboard_sessions, feed_tokens
from casemgmt.adapters.sql.transactions import single_read, write_transaction
from casemgmt.application.auth import ApiKey, DashboardSession, FeedToken, Role
from casemgmt.application.errors import NotFound
from casemgmt.application.users import User

__all__ = ["SqlKeyRepository"]

_SCOPE = msgspec.json.Decoder(list[str] | None)
_KEY_COLUMNS = [c.label(f"k_{c.name}") for c in api_keys.c]
_USER_COLUMNS = [c.label(f"u_{c.name}") for c in users.c]


#: What the driver raises for a connection still busy with another operation.
_BUSY = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)

_GET_KEY = f"SELECT {', '.join(c.name for c in api_keys.c)} FROM api_keys WHERE key_id = $1"


def _scope_in(raw: str | None) -> list[str] | None:
    return None if raw is None else _SCOPE.decode(raw)


def _scope_out(scope: list[str] | None) -> str | None:
    return None if scope is None else msgspec.json.encode(scope).decode()


def _key(values: dict[str, Any]) -> ApiKey:
    values["role"] = Role(values["role"])
    values["regulators"] = _scope_in(values["regulators"])
    return ApiKey(**values)


def _joined_key(row: Any) -> ApiKey:
    return _key({k[2:]: v for k, v in row._mapping.items() if k.startswith("k_")})


class SqlKeyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, key: ApiKey) -> None:
        row = msgspec.structs.asdict(key)
        row["role"] = key.role.value
        row["regulators"] = _scope_out(key.regulators)
        async with write_transaction(self._engine) as conn:
            await conn.execute(sa.insert(api_keys), [row])

    async def get(self, key_id: str) -> ApiKey | None:
        if autocommit_reads(self._engine):
            try:
                return await self._get_on_driver(key_id)
            except _BUSY:
                # The pool handed out a connection the driver still had an operation on
                # (one whose statement failed as PostgreSQL shut down, before the socket's
                # close was seen); it is gone now. The read is idempotent: once more, on
                # a fresh connection.
                return await self._get_on_driver(key_id)
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id))
            ).first()
        return None if row is None else _key(dict(row._mapping))

    async def _get_on_driver(self, key_id: str) -> ApiKey | None:
        """Every request reads its key: one round trip on the driver's prepared statement
        (no BEGIN/ROLLBACK, no statement compiling), a third of the CPU. SQLAlchemy sees
        nothing of it, so a connection this read fails on is invalidated here: returned to
        the pool, it could still be busy with the failed operation (asyncpg consumes the
        error until the server is ready again) and fail the next request to draw it."""
        async with self._engine.connect() as conn:
            driver: Any = (await conn.get_raw_connection()).driver_connection
            try:
                record = await driver.fetchrow(_GET_KEY, key_id)
            except BaseException:
                await conn.invalidate()
                raise
        if record is None:
            return None
        values = dict(record.items())
        scope = values["regulators"]  # decoded by the json codec SQLAlchemy sets
        values["regulators"] = (
            scope if scope is None or isinstance(scope, str) else (_scope_out(list(scope)))
        )
        return _key(values)

    async def list(self) -> list[ApiKey]:
        query = sa.select(api_keys).order_by(api_keys.c.created_at.desc(), api_keys.c.key_id)
        async with self._engine.connect() as conn:
            return [_key(dict(row._mapping)) for row in (await conn.execute(query)).all()]

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            # Its dashboard sessions go with it (feed tokens check the key on every use).
            await conn.execute(
                sa.delete(dashboard_sessions).where(dashboard_sessions.c.key_id == key_id)
            )
        key = await self.get(key_id)
        if key is None:
            raise NotFound("key", key_id)
        return key

    async def add_session(self, session: DashboardSession) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(sa.insert(dashboard_sessions), [msgspec.structs.asdict(session)])

    async def session_owner(
        self, session_id: str
    ) -> tuple[DashboardSession, ApiKey | None, User | None] | None:
        s = dashboard_sessions
        query = (
            sa.select(s, *_KEY_COLUMNS, *_USER_COLUMNS)
            .outerjoin(api_keys, api_keys.c.key_id == s.c.key_id)
            .outerjoin(users, users.c.user_id == s.c.user_id)
            .where(s.c.session_id == session_id)
        )
        async with single_read(self._engine) as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        m = row._mapping
        session = DashboardSession(**{f: m[f] for f in DashboardSession.__struct_fields__})
        key = _joined_key(row) if m["k_key_id"] is not None else None
        person = None
        if m["u_user_id"] is not None:
            person = user_from({k[2:]: v for k, v in m.items() if k.startswith("u_")})
        return session, key, person

    async def end_session(self, session_id: str) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.delete(dashboard_sessions).where(dashboard_sessions.c.session_id == session_id)
            )

    async def add_feed_token(self, token: FeedToken) -> None:
        row = msgspec.structs.asdict(token)
        row["regulators"] = _scope_out(token.regulators)
        async with write_transaction(self._engine) as conn:
            await conn.execute(sa.insert(feed_tokens), [row])

    async def feed_token_key(self, token_id: str) -> tuple[FeedToken, ApiKey] | None:
        query = (
            sa.select(feed_tokens, *_KEY_COLUMNS)
            .join(api_keys, api_keys.c.key_id == feed_tokens.c.key_id)
            .where(feed_tokens.c.token_id == token_id)
        )
        async with single_read(self._engine) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (_feed(row._mapping), _joined_key(row))

    async def feed_tokens(self) -> Sequence[FeedToken]:
        query = sa.select(feed_tokens).order_by(
            feed_tokens.c.created_at.desc(), feed_tokens.c.token_id
        )
        async with self._engine.connect() as conn:
            return [_feed(row._mapping) for row in (await conn.execute(query)).all()]

    async def revoke_feed_token(self, token_id: str, at: datetime) -> FeedToken:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.update(feed_tokens)
                .where(feed_tokens.c.token_id == token_id, feed_tokens.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        found = await self.feed_token_key(token_id)
        if found is None:
            raise NotFound("feed token", token_id)
        return found[0]


def _feed(mapping: Any) -> FeedToken:
    values = {f: mapping[f] for f in FeedToken.__struct_fields__}
    values["regulators"] = _scope_in(values["regulators"])
    return FeedToken(**values)
