"""API keys in the ``api_keys`` table (``KeyRepository``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.readmodels.tables import api_keys
from casemgmt.adapters.sql.writes import write_transaction
from casemgmt.application.auth import ApiKey, Role
from casemgmt.application.errors import NotFound

__all__ = ["SqlKeyRepository"]

_SCOPE = msgspec.json.Decoder(list[str] | None)


def _key(row: Any) -> ApiKey:
    values = dict(row._mapping)
    values["role"] = Role(values["role"])
    raw = values["regulators"]
    values["regulators"] = None if raw is None else _SCOPE.decode(raw)
    return ApiKey(**values)


class SqlKeyRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, key: ApiKey) -> None:
        row = msgspec.structs.asdict(key)
        row["role"] = key.role.value
        row["regulators"] = (
            None if key.regulators is None else msgspec.json.encode(key.regulators).decode()
        )
        async with write_transaction(self._engine) as conn:
            await conn.execute(sa.insert(api_keys), [row])

    async def get(self, key_id: str) -> ApiKey | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id))
            ).first()
        return None if row is None else _key(row)

    async def list(self) -> list[ApiKey]:
        query = sa.select(api_keys).order_by(api_keys.c.created_at.desc(), api_keys.c.key_id)
        async with self._engine.connect() as conn:
            return [_key(row) for row in (await conn.execute(query)).all()]

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        key = await self.get(key_id)
        if key is None:
            raise NotFound("key", key_id)
        return key
