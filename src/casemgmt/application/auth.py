"""API keys and the principal they authenticate.

A key is shown once, as ``cmk_<key_id>_<secret>``; only the SHA-256 of the secret is
stored (the secret has 256 bits of entropy, so a slow hash adds nothing). A key carries a
role and the regulators it may see (``None``: every regulator).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Collection
from datetime import datetime

import msgspec

from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.ports import KeyRepository

__all__ = [
    "ApiKey",
    "IssuedKey",
    "Principal",
    "Role",
    "issue_key",
    "parse_key",
    "secret_hash",
]

KEY_PREFIX = "cmk"


class Role(enum.StrEnum):
    """What a key may do; each role includes the ones before it."""

    READER = "reader"
    WRITER = "writer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: the key's id (recorded as the actor), role and regulator scope."""

    key_id: str
    name: str
    role: Role
    regulators: frozenset[str] | None = None

    def can_see(self, regulator: str) -> bool:
        return self.regulators is None or regulator in self.regulators

    def has_role(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def scope(self) -> frozenset[str] | None:
        """The regulators to filter by, or None for all."""
        return self.regulators

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A stored key: never the secret itself."""

    key_id: str
    name: str
    role: Role
    regulators: list[str] | None
    secret_sha256: str
    created_at: datetime
    revoked_at: datetime | None = None

    def principal(self) -> Principal:
        scope = None if self.regulators is None else frozenset(self.regulators)
        return Principal(key_id=self.key_id, name=self.name, role=self.role, regulators=scope)


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key just created: ``token`` is shown once and never stored."""

    key: ApiKey
    token: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    *, name: str, role: Role, regulators: Collection[str] | None, now: datetime
) -> IssuedKey:
    """Create a random key; the caller stores ``key`` and shows ``token`` once."""
    if not name.strip():
        raise ValidationFailed("a key needs a name", field="name")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    scope = None if regulators is None else sorted(set(regulators))
    key = ApiKey(
        key_id=key_id,
        name=name.strip(),
        role=role,
        regulators=scope,
        secret_sha256=secret_hash(secret),
        created_at=now,
    )
    return IssuedKey(key=key, token=f"{KEY_PREFIX}_{key_id}_{secret}")


def parse_key(token: str) -> tuple[str, str] | None:
    """Split a presented token into ``(key_id, secret)``; None if it is not one of ours."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def verify_secret(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.secret_sha256, secret_hash(secret))


async def authenticate(keys: KeyRepository, token: str) -> Principal | None:
    """The principal of a valid, unrevoked key; None otherwise (no reason is leaked)."""
    parsed = parse_key(token)
    if parsed is None:
        return None
    key = await keys.get(parsed[0])
    if key is None or key.revoked_at is not None or not verify_secret(key, parsed[1]):
        return None
    return key.principal()


async def revoke_key(keys: KeyRepository, key_id: str, now: datetime) -> ApiKey:
    key = await keys.get(key_id)
    if key is None:
        raise NotFound("key", key_id)
    return await keys.revoke(key_id, now)
