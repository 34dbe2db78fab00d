"""People: inviting, setting a password with an invite, signing in, disabling.

The rules (see ``users`` for the data): an admin invites a person with at most its own
power (``may_grant``) and manages only people within its scope; the invite code is shown
once, stored hashed, expires, and is burnt when used; a disabled person is refused at
once (their sessions are deleted and every request re-reads the person). Signing in
with an unknown address costs the same hash as a wrong password, so timing tells nothing.
Logs carry ids, never an email address's password, code or hash.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Collection
from datetime import timedelta

from casemgmt.application.access import CLI_ACTOR, AccessService
from casemgmt.application.auth import Principal, Role, may_grant, parse_key, secret_hash
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.ports import Clock, PasswordHasher, UserRepository
from casemgmt.application.users import (
    INVITE_PREFIX,
    IssuedInvite,
    User,
    check_password,
    normal_email,
)
from casemgmt.observability import get_logger

__all__ = ["PeopleService"]

_log = get_logger("casemgmt.people")


class PeopleService:
    def __init__(
        self,
        users: UserRepository,
        passwords: PasswordHasher,
        access: AccessService,
        clock: Clock,
        invite_hours: float = 72,
    ) -> None:
        self.users = users
        self._passwords = passwords
        self._access = access
        self._clock = clock
        self._invite_for = timedelta(hours=invite_hours)
        self._dummy: str | None = None

    # -- admins ------------------------------------------------------------------------

    async def invite(
        self,
        by: Principal | None,
        email: str,
        name: str,
        role: Role,
        regulators: Collection[str] | None,
    ) -> IssuedInvite:
        """A new person and their invite code; ``ValidationFailed`` if ``by`` (None: the
        command line) would give them more power than its own, or the address is taken."""
        scope = self._access.scope(regulators)
        if by is not None and not may_grant(by, role, scope):
            raise ValidationFailed(
                "a person may not have a stronger role or reach regulators beyond your own",
                field="regulators" if role.rank <= by.role.rank else "role",
            )
        if not name.strip():
            raise ValidationFailed("a person needs a name", field="name")
        user = User(
            user_id=secrets.token_hex(6),
            email=normal_email(email),
            name=name.strip(),
            role=role,
            regulators=scope,
            created_at=self._clock.now(),
            created_by=_actor(by),
        )
        await self.users.add(user)
        issued = await self._new_invite(user)
        _log.info(
            "user.invited", user_id=user.user_id, role=role.value, regulators=scope,
            created_by=user.created_by, expires_at=issued.expires_at.isoformat(),
        )  # fmt: skip
        return issued

    async def reinvite(self, by: Principal | None, user_id: str) -> IssuedInvite:
        """A fresh invite code (a forgotten password, or an expired invite); the older
        code stops working, the current password keeps working until the new one is set."""
        user = await self.get(by, user_id)
        if not user.active:
            raise ValidationFailed("enable this person before inviting them again", field="user")
        issued = await self._new_invite(user)
        _log.info("user.reinvited", user_id=user.user_id, by=_actor(by))
        return issued

    async def visible(self, by: Principal | None) -> list[User]:
        return [u for u in await self.users.list() if self._access.visible(by, u.regulators)]

    async def get(self, by: Principal | None, user_id: str) -> User:
        """The person ``user_id`` (or with that email address) within ``by``'s scope."""
        user = await self.users.get(user_id)
        if user is None and "@" in user_id:
            user = await self.users.by_email(user_id.strip().lower())
        if user is None or not self._access.visible(by, user.regulators):
            raise NotFound("user", user_id)
        return user

    async def set_enabled(self, by: Principal | None, user_id: str, enabled: bool) -> User:
        """Disable (at once: their sessions end) or re-enable a person in ``by``'s scope."""
        user = await self.get(by, user_id)
        if by is not None and by.user_id == user.user_id:
            raise ValidationFailed("you cannot disable or enable yourself", field="user")
        await self.users.set_disabled(user.user_id, None if enabled else self._clock.now())
        _log.info("user.enabled" if enabled else "user.disabled", user_id=user.user_id,
                  by=_actor(by))  # fmt: skip
        return await self.get(by, user.user_id)

    # -- the person --------------------------------------------------------------------

    async def accept_invite(self, code: str, password: str, repeat: str | None) -> Principal:
        """Set a password with an invite code (once): the person's principal, signed in.
        ``ValidationFailed`` naming ``code`` for any unusable code (one message for all
        reasons), or ``password``/``repeat`` for an unusable password."""
        user = await self._invited(code.strip())
        check_password(password, repeat, user.email)
        password_hash = await asyncio.to_thread(self._passwords.hash, password)
        assert user.invite_sha256 is not None
        now = self._clock.now()
        if not await self.users.set_password(
            user.user_id, password_hash, now, invite_sha256=user.invite_sha256
        ):
            raise _bad_code()
        _log.info("user.password_set", user_id=user.user_id)
        return user.principal()

    async def sign_in(self, email: str, password: str) -> Principal | None:
        """The principal of an enabled person with this password; None otherwise."""
        try:
            user = await self.users.by_email(normal_email(email))
        except ValidationFailed:
            user = None
        stored = user.password_hash if user is not None else None
        if stored is None or len(password) > 4 * 256:
            stored = await self._dummy_hash()  # the same work for unknown addresses
        matches = await asyncio.to_thread(self._passwords.verify, stored, password)
        if user is None or user.password_hash is None or not matches or not user.active:
            _log.warning("auth.refused", credential="password",
                         user_id=user.user_id if user else None)  # fmt: skip
            return None
        if self._passwords.needs_rehash(user.password_hash):
            fresh = await asyncio.to_thread(self._passwords.hash, password)
            await self.users.set_password(
                user.user_id, fresh, self._clock.now(), invite_sha256=None
            )
            _log.info("user.password_rehashed", user_id=user.user_id)
        return user.principal()

    async def ensure(
        self, email: str, name: str, role: Role, regulators: list[str] | None, password: str
    ) -> User:
        """The demo's way: this person with this password (created or reset if needed)."""
        user = await self.users.by_email(normal_email(email))
        if user is None:
            issued = await self.invite(None, email, name, role, regulators)
            await self.accept_invite(issued.code, password, None)
        elif user.password_hash is None or not await asyncio.to_thread(
            self._passwords.verify, user.password_hash, password
        ):
            issued = await self.reinvite(None, user.user_id)
            await self.accept_invite(issued.code, password, None)
        found = await self.users.by_email(normal_email(email))
        assert found is not None
        return found

    # -- internals ---------------------------------------------------------------------

    async def _new_invite(self, user: User) -> IssuedInvite:
        secret = secrets.token_urlsafe(32)
        expires = self._clock.now() + self._invite_for
        await self.users.set_invite(user.user_id, secret_hash(secret), expires)
        code = f"{INVITE_PREFIX}_{user.user_id}_{secret}"
        return IssuedInvite(user=user, code=code, expires_at=expires)

    async def _invited(self, code: str) -> User:
        parsed = parse_key(code, INVITE_PREFIX)
        user = None if parsed is None else await self.users.get(parsed[0])
        if parsed is None or user is None or user.invite_sha256 is None:
            raise _bad_code()
        genuine = hmac.compare_digest(user.invite_sha256, secret_hash(parsed[1]))
        expires = user.invite_expires_at
        if not genuine or not user.active or expires is None or expires <= self._clock.now():
            _log.warning("auth.refused", credential="invite", user_id=user.user_id)
            raise _bad_code()
        return user

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await asyncio.to_thread(self._passwords.hash, secrets.token_hex(16))
        return self._dummy


def _actor(by: Principal | None) -> str:
    return CLI_ACTOR if by is None else by.actor


def _bad_code() -> ValidationFailed:
    return ValidationFailed(
        "this invite code is not valid (used, expired or mistyped): ask an admin for a new one",
        field="code",
    )
