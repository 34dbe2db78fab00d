"""API keys, dashboard sessions and feed tokens, and the principal they authenticate.

Every credential is shown once, as ``<prefix>_<id>_<secret>`` (``cmk`` an API key, ``cms``
a dashboard session, ``cmf`` a calendar feed token, ``cmi`` a person's invite); only the
SHA-256 of the secret is stored (the secret has 256 bits of entropy, so a slow hash adds
nothing; people's passwords are another matter, see ``users``). A key carries a role and
the regulators it may see (``None``: every regulator) and records who created it;
sessions and feed tokens act for the key (or the person) that made them and die with it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Collection
from datetime import datetime

import msgspec

from casemgmt.application.errors import ValidationFailed

__all__ = [
    "FEED_PREFIX",
    "KEY_PREFIX",
    "SESSION_PREFIX",
    "ApiKey",
    "DashboardSession",
    "FeedToken",
    "IssuedKey",
    "Principal",
    "Role",
    "issue_key",
    "may_grant",
    "parse_key",
    "secret_hash",
]

KEY_PREFIX = "cmk"
SESSION_PREFIX = "cms"
FEED_PREFIX = "cmf"


class Role(enum.StrEnum):
    """What a key may do; each role includes the ones before it."""

    READER = "reader"
    WRITER = "writer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]


#: Each role's rank, weakest first (checked on every request).
_RANKS = {role: rank for rank, role in enumerate(Role)}


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: a key, or a person (``user_id``) signed in to the dashboard.

    ``key_id`` names the credential for rate limits and idempotency (``user:<id>`` for a
    person); ``actor`` is what events record: ``key:<key id>`` or ``user:<user id>``.
    """

    key_id: str
    name: str
    role: Role
    regulators: frozenset[str] | None = None
    user_id: str | None = None

    def can_see(self, regulator: str) -> bool:
        return self.regulators is None or regulator in self.regulators

    def has_role(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def scope(self) -> frozenset[str] | None:
        """The regulators to filter by, or None for all."""
        return self.regulators

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"key:{self.key_id}"


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A stored key: never the secret itself."""

    key_id: str
    name: str
    role: Role
    regulators: list[str] | None
    secret_sha256: str
    created_at: datetime
    revoked_at: datetime | None = None
    #: ``key:<id>`` of the admin key that created it, ``cli`` for the command line;
    #: None for keys created before this was recorded.
    created_by: str | None = None

    def principal(self) -> Principal:
        scope = None if self.regulators is None else frozenset(self.regulators)
        return Principal(key_id=self.key_id, name=self.name, role=self.role, regulators=scope)


class DashboardSession(msgspec.Struct, frozen=True, kw_only=True):
    """A dashboard sign-in: the browser holds ``cms_<session_id>_<secret>``; it acts for
    an API key (``key_id``) or a person (``user_id``), exactly one of them."""

    session_id: str
    key_id: str | None
    secret_sha256: str
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None


class FeedToken(msgspec.Struct, frozen=True, kw_only=True):
    """A read-only calendar feed token of ``key_id``, confined to ``regulators``."""

    token_id: str
    key_id: str
    name: str
    regulators: list[str] | None
    secret_sha256: str
    created_at: datetime
    revoked_at: datetime | None = None


class IssuedKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key just created: ``token`` is shown once and never stored."""

    key: ApiKey
    token: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def may_grant(grantor: Principal, role: Role, regulators: Collection[str] | None) -> bool:
    """Whether ``grantor`` may create a credential with ``role`` over ``regulators``:
    never a stronger role, never a regulator beyond its own scope."""
    if role.rank > grantor.role.rank:
        return False
    if grantor.regulators is None:
        return True
    return regulators is not None and set(regulators) <= grantor.regulators


def new_secret(prefix: str) -> tuple[str, str, str]:
    """A fresh ``(id, secret, token)`` for a credential of ``prefix``."""
    ident, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return ident, secret, f"{prefix}_{ident}_{secret}"


def issue_key(
    *,
    name: str,
    role: Role,
    regulators: Collection[str] | None,
    now: datetime,
    created_by: str | None = None,
) -> IssuedKey:
    """Create a random key; the caller stores ``key`` and shows ``token`` once."""
    if not name.strip():
        raise ValidationFailed("a key needs a name", field="name")
    key_id, secret, token = new_secret(KEY_PREFIX)
    scope = None if regulators is None else sorted(set(regulators))
    key = ApiKey(
        key_id=key_id,
        name=name.strip(),
        role=role,
        regulators=scope,
        secret_sha256=secret_hash(secret),
        created_at=now,
        created_by=created_by,
    )
    return IssuedKey(key=key, token=token)


def parse_key(token: str, prefix: str = KEY_PREFIX) -> tuple[str, str] | None:
    """Split a presented token into ``(id, secret)``; None if it is not a ``prefix`` one."""
    head, _, rest = token.partition("_")
    ident, _, secret = rest.partition("_")
    if head != prefix or not ident or not secret or len(token) > 200:
        return None
    return ident, secret


def verify_secret(key: ApiKey | DashboardSession | FeedToken, secret: str) -> bool:
    return hmac.compare_digest(key.secret_sha256, secret_hash(secret))
