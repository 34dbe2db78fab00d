"""People in ``users`` (``UserRepository``): never a password or invite code, only hashes.

Every read goes to the database (primary-key or unique-index lookups), so disabling a
person is seen by every API process on its next request; disabling also deletes the
person's dashboard sessions in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.sql.eventstore.tables import JsonText, UtcDateTime, metadata
from casemgmt.adapters.sql.readmodels.tables import dashboard_sessions
from casemgmt.adapters.sql.transactions import write_transaction
from casemgmt.application.auth import Role
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.users import User

__all__ = ["SqlUserRepository", "user_from", "users"]

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("regulators", JsonText),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("password_set_at", UtcDateTime),
    sa.Column("invite_sha256", sa.Text),
    sa.Column("invite_expires_at", UtcDateTime),
    sa.Column("disabled_at", UtcDateTime),
)

_SCOPE = msgspec.json.Decoder(list[str] | None)


def user_from(values: dict[str, Any]) -> User:
    """A ``User`` from a row's values (as named in ``users``)."""
    values["role"] = Role(values["role"])
    raw = values["regulators"]
    values["regulators"] = None if raw is None else _SCOPE.decode(raw)
    return User(**values)


def _row(user: User) -> dict[str, Any]:
    row = msgspec.structs.asdict(user)
    row["role"] = user.role.value
    row["regulators"] = (
        None if user.regulators is None else msgspec.json.encode(user.regulators).decode()
    )
    return row


class SqlUserRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, user: User) -> None:
        try:
            async with write_transaction(self._engine) as conn:
                await conn.execute(sa.insert(users), [_row(user)])
        except IntegrityError as exc:
            raise ValidationFailed(
                "a person with this email address already exists", field="email"
            ) from exc

    async def _one(self, where: sa.ColumnElement[bool]) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(users).where(where))).first()
        return None if row is None else user_from(dict(row._mapping))

    async def get(self, user_id: str) -> User | None:
        return await self._one(users.c.user_id == user_id)

    async def by_email(self, email: str) -> User | None:
        return await self._one(users.c.email == email)

    async def list(self) -> list[User]:
        query = sa.select(users).order_by(users.c.name, users.c.user_id)
        async with self._engine.connect() as conn:
            return [user_from(dict(row._mapping)) for row in (await conn.execute(query)).all()]

    async def set_invite(self, user_id: str, invite_sha256: str, expires_at: datetime) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.update(users)
                .where(users.c.user_id == user_id)
                .values(invite_sha256=invite_sha256, invite_expires_at=expires_at)
            )

    async def set_password(
        self, user_id: str, password_hash: str, at: datetime, *, invite_sha256: str | None
    ) -> bool:
        where = [users.c.user_id == user_id]
        values: dict[str, Any] = {"password_hash": password_hash}
        if invite_sha256 is not None:
            # Compare-and-set: two tabs posting the same invite set one password, once.
            where.append(users.c.invite_sha256 == invite_sha256)
            values |= {"invite_sha256": None, "invite_expires_at": None, "password_set_at": at}
        async with write_transaction(self._engine) as conn:
            result = await conn.execute(sa.update(users).where(*where).values(**values))
            if invite_sha256 is not None:
                # A new password ends every session signed in with the old one.
                await conn.execute(
                    sa.delete(dashboard_sessions).where(dashboard_sessions.c.user_id == user_id)
                )
        return bool(result.rowcount)

    async def set_disabled(self, user_id: str, at: datetime | None) -> None:
        async with write_transaction(self._engine) as conn:
            await conn.execute(
                sa.update(users).where(users.c.user_id == user_id).values(disabled_at=at)
            )
            if at is not None:
                await conn.execute(
                    sa.delete(dashboard_sessions).where(dashboard_sessions.c.user_id == user_id)
                )
