"""Password hashing with argon2id (argon2-cffi's ``PasswordHasher``).

The encoded hash carries its own salt and parameters, so raising the parameters later
(``Argon2Passwords(time_cost=..., memory_cost=...)``) keeps old hashes verifiable and
``needs_rehash`` tells the caller to store a fresh hash at the person's next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["Argon2Passwords"]


class Argon2Passwords:
    """The ``PasswordHasher`` port; defaults are argon2-cffi's (RFC 9106 low-memory)."""

    def __init__(
        self,
        *,
        time_cost: int | None = None,
        memory_cost: int | None = None,
        parallelism: int | None = None,
    ) -> None:
        default = PasswordHasher()
        self._hasher = PasswordHasher(
            time_cost=time_cost or default.time_cost,
            memory_cost=memory_cost or default.memory_cost,
            parallelism=parallelism or default.parallelism,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
