"""``UserRepository`` in memory: the application tests' people (no sessions kept here)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from casemgmt.application.errors import ValidationFailed
from casemgmt.application.users import User

__all__ = ["MemoryUserRepository"]


class MemoryUserRepository:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self.users.values()):
            raise ValidationFailed("a person with this email address already exists", field="email")
        self.users[user.user_id] = user

    async def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    async def by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    async def list(self) -> list[User]:
        return sorted(self.users.values(), key=lambda u: (u.name, u.user_id))

    async def set_invite(self, user_id: str, invite_sha256: str, expires_at: datetime) -> None:
        self._replace(user_id, invite_sha256=invite_sha256, invite_expires_at=expires_at)

    async def set_password(
        self, user_id: str, password_hash: str, at: datetime, *, invite_sha256: str | None
    ) -> bool:
        user = self.users.get(user_id)
        if user is None:
            return False
        if invite_sha256 is None:
            self._replace(user_id, password_hash=password_hash)
            return True
        if user.invite_sha256 != invite_sha256:
            return False
        self._replace(
            user_id, password_hash=password_hash, password_set_at=at,
            invite_sha256=None, invite_expires_at=None,
        )  # fmt: skip
        return True

    async def set_disabled(self, user_id: str, at: datetime | None) -> None:
        self._replace(user_id, disabled_at=at)

    def _replace(self, user_id: str, **changes: object) -> None:
        if user_id in self.users:
            self.users[user_id] = msgspec.structs.replace(self.users[user_id], **changes)
