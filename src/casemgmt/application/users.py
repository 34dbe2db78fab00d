"""People: named users with a role and regulator scopes, invited by an admin.

A person has the same role and scope model as an API key (``auth.Role``; ``regulators``
None means every regulator) and the same ceiling: nobody invites a person with more
power than their own. An invite is a one-time code ``cmi_<user id>_<secret>`` that
expires; only its SHA-256 is stored (256 random bits) and it is burnt when the person
sets a password. Passwords are hashed by a ``PasswordHasher`` (argon2id); the hash is
upgraded at the next sign-in when the hashing parameters change.
"""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from casemgmt.application.auth import Principal, Role
from casemgmt.application.errors import ValidationFailed

__all__ = [
    "INVITE_PREFIX",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "IssuedInvite",
    "User",
    "check_password",
    "normal_email",
    "user_actor_id",
]

INVITE_PREFIX = "cmi"
#: Passwords: at least 12 characters (NIST SP 800-63B asks 8, more for a tool holding
#: enforcement files), at most 256 (hashing a megabyte on every try would be a DoS).
MIN_PASSWORD = 12
MAX_PASSWORD = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}$")


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A stored person: never a password or an invite code, only their hashes."""

    user_id: str
    email: str
    name: str
    role: Role
    regulators: list[str] | None
    created_at: datetime
    #: ``key:<id>`` / ``user:<id>`` of the admin who invited them, ``cli``, or ``demo``.
    created_by: str
    password_hash: str | None = None
    password_set_at: datetime | None = None
    invite_sha256: str | None = None
    invite_expires_at: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def principal(self) -> Principal:
        scope = None if self.regulators is None else frozenset(self.regulators)
        return Principal(
            key_id=user_actor_id(self.user_id),
            name=self.name,
            role=self.role,
            regulators=scope,
            user_id=self.user_id,
        )


class IssuedInvite(msgspec.Struct, frozen=True, kw_only=True):
    """An invite just made: ``code`` is shown once (to pass on to the person), never stored."""

    user: User
    code: str
    expires_at: datetime


def user_actor_id(user_id: str) -> str:
    """The credential id a person's requests count under (rate limits, idempotency)."""
    return f"user:{user_id}"


def normal_email(email: str) -> str:
    """``email`` trimmed and lower-cased; ``ValidationFailed`` if it is not an address."""
    value = email.strip().lower()
    if not _EMAIL.match(value):
        raise ValidationFailed("give an email address such as name@example.org", field="email")
    return value


def check_password(password: str, repeat: str | None, email: str) -> None:
    """``ValidationFailed`` naming ``password`` unless it is a usable password."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"a password needs at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(
            f"a password may have at most {MAX_PASSWORD} characters", field="password"
        )
    if password.strip().lower() == email.lower():
        raise ValidationFailed("a password may not be your email address", field="password")
    if repeat is not None and repeat != password:
        raise ValidationFailed("the two passwords differ", field="repeat")
