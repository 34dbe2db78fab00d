"""Who may do what: authenticating credentials, and creating and revoking them.

Sessions and feed tokens are read from the database on every use. API keys, read on
every request, are kept in memory only while a ``CredentialChanges`` watch (PostgreSQL's
``LISTEN``) can tell this process that a key changed anywhere: each kept key is stamped
with the watch's generation and is used only while that generation holds, for at most
``key_cache_seconds``. A revocation moves every process to a new generation as soon as
PostgreSQL delivers its notification (and the revoking process at once), so a revoked
key stops working everywhere; with no watch (SQLite, PgBouncer) every request reads its
key. Creating, revoking, refusing and using a credential is logged with its id, never
its secret.
A grantor can never create a credential with more power than its own (``may_grant``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

from casemgmt.application.auth import (
    FEED_PREFIX,
    KEY_PREFIX,
    SESSION_PREFIX,
    ApiKey,
    DashboardSession,
    FeedToken,
    IssuedKey,
    Principal,
    Role,
    issue_key,
    may_grant,
    new_secret,
    parse_key,
    secret_hash,
    verify_secret,
)
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.ports import Clock, CredentialChanges, KeyRepository
from casemgmt.observability import get_logger

__all__ = ["CLI_ACTOR", "AccessService"]

#: ``created_by`` of credentials made with the command line (the database's operator).
CLI_ACTOR = "cli"
_log = get_logger("casemgmt.access")
#: Keys kept in memory at most (a full cache starts again empty).
MAX_CACHED_KEYS = 10_000


class AccessService:
    """Authentication and credential management over one ``KeyRepository``."""

    def __init__(
        self,
        keys: KeyRepository,
        clock: Clock,
        session_hours: float = 12,
        regulators: Collection[str] | None = None,
        changes: CredentialChanges | None = None,
        key_cache_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``regulators``: the codes a credential may be scoped to (None: any).
        ``changes``: the watch that lets API keys be kept in memory, each for at most
        ``key_cache_seconds`` (0, or no watch: every request reads its key)."""
        self.keys = keys
        self._clock = clock
        self._session = timedelta(hours=session_hours)
        self._regulators = None if regulators is None else frozenset(regulators)
        self._changes = changes if key_cache_seconds > 0 else None
        self._key_seconds = key_cache_seconds
        self._monotonic = monotonic
        #: key id -> (the key, the watch's generation when it was read, monotonic read time)
        self._kept: dict[str, tuple[ApiKey, int, float]] = {}
        #: key id -> (generation, the read in flight, monotonic time it was sent)
        self._reading: dict[str, tuple[int, asyncio.Task[ApiKey | None], float]] = {}

    def scope(self, regulators: Collection[str] | None) -> list[str] | None:
        """``regulators`` normalised (lower case, each once); ``ValidationFailed`` naming
        any code that is not a known regulator's."""
        if regulators is None:
            return None
        codes = list(dict.fromkeys(code.strip().lower() for code in regulators))
        unknown = [c for c in codes if self._regulators is not None and c not in self._regulators]
        if unknown:
            known = ", ".join(sorted(self._regulators or ()))
            raise ValidationFailed(
                f"unknown regulator {', '.join(map(repr, unknown))}; known: {known}",
                field="regulators",
            )
        return codes

    async def authenticate(self, token: str) -> Principal | None:
        """The principal of a valid, unrevoked API key; None otherwise (no reason leaks)."""
        parsed = parse_key(token, KEY_PREFIX)
        if parsed is None:
            return None
        key = await self._key(parsed[0])
        if key is None or key.revoked_at is not None or not verify_secret(key, parsed[1]):
            _log.warning("auth.refused", key_id=parsed[0], credential="api_key")
            return None
        return key.principal()

    async def _key(self, key_id: str) -> ApiKey | None:
        """The stored key: kept from an earlier read while no credential changed since (and
        for at most ``key_cache_seconds``), else read. A read is stamped with the
        generation seen before it was sent: a key read before a revocation committed but
        answered after its notification is never used again."""
        changes = self._changes
        generation = None if changes is None else changes.generation()
        if changes is None or generation is None:
            return await self.keys.get(key_id)
        started = self._monotonic()
        kept = self._kept.get(key_id)
        if kept is not None and kept[1] == generation and started - kept[2] < self._key_seconds:
            return kept[0]
        # Requests that miss together (the kept key just expired) share one read, if it
        # was sent in this generation: one round trip, not one per request in flight.
        loop = asyncio.get_running_loop()
        reading = self._reading.get(key_id)
        if reading is None or reading[0] != generation or reading[1].get_loop() is not loop:
            task = loop.create_task(self.keys.get(key_id))
            reading = self._reading[key_id] = (generation, task, started)
            task.add_done_callback(lambda _: self._done_reading(key_id, reading))
        key = await asyncio.shield(reading[1])
        if key is not None:
            if len(self._kept) >= MAX_CACHED_KEYS:
                self._kept.clear()
            self._kept[key_id] = (key, generation, reading[2])
        return key

    def _done_reading(self, key_id: str, reading: tuple[int, Any, float]) -> None:
        if self._reading.get(key_id) is reading:
            del self._reading[key_id]

    async def create_key(
        self, by: Principal | None, name: str, role: Role, regulators: Collection[str] | None
    ) -> IssuedKey:
        """A new key made by ``by`` (None: the command line); ``ValidationFailed`` if it
        would have more power than ``by`` or names a regulator that does not exist."""
        regulators = self.scope(regulators)
        if by is not None and not may_grant(by, role, regulators):
            raise ValidationFailed(
                "a key may not have a stronger role or reach regulators beyond your own",
                field="regulators" if role.rank <= by.role.rank else "role",
            )
        creator = CLI_ACTOR if by is None else by.actor
        issued = issue_key(
            name=name, role=role, regulators=regulators, now=self._clock.now(), created_by=creator
        )
        await self.keys.add(issued.key)
        key = issued.key
        _log.info(
            "key.created", key_id=key.key_id, role=key.role.value, created_by=creator,
            regulators=key.regulators,
        )  # fmt: skip
        return issued

    def visible(self, by: Principal | None, regulators: list[str] | None) -> bool:
        """Whether ``by`` manages credentials over ``regulators`` (its scope covers them)."""
        return by is None or by.regulators is None or may_grant(by, Role.READER, regulators)

    async def list_keys(self, by: Principal | None) -> list[ApiKey]:
        return [k for k in await self.keys.list() if self.visible(by, k.regulators)]

    async def revoke_key(self, by: Principal | None, key_id: str) -> ApiKey:
        """Revoke a key within ``by``'s scope (``NotFound`` otherwise); effective at once."""
        key = await self.keys.get(key_id)
        if key is None or not self.visible(by, key.regulators):
            raise NotFound("key", key_id)
        revoked = await self.keys.revoke(key_id, self._clock.now())
        if self._changes is not None:
            self._changes.changed()  # this process: at once, not when the notice arrives
        _log.info("key.revoked", key_id=key_id, revoked_by=CLI_ACTOR if by is None else by.actor)
        return revoked

    async def start_session(self, api_key: str) -> tuple[str, Principal] | None:
        """Sign in with an API key: a new session token and its principal, or None."""
        principal = await self.authenticate(api_key)
        if principal is None:
            return None
        return await self.open_session(principal), principal

    async def open_session(self, principal: Principal) -> str:
        """A new dashboard session for ``principal`` (a key's or a person's, already
        authenticated); returns the token the browser keeps."""
        session_id, secret, token = new_secret(SESSION_PREFIX)
        now = self._clock.now()
        person = principal.user_id
        session = DashboardSession(
            session_id=session_id,
            key_id=None if person is not None else principal.key_id,
            user_id=person,
            secret_sha256=secret_hash(secret),
            created_at=now,
            expires_at=now + self._session,
        )
        await self.keys.add_session(session)
        who = {"user_id": person} if person is not None else {"key_id": principal.key_id}
        _log.info("session.started", session_id=session_id, **who)
        return token

    async def session_principal(self, token: str) -> Principal | None:
        """The principal of a live session whose key is unrevoked, or whose person is
        enabled; None otherwise."""
        parsed = parse_key(token, SESSION_PREFIX)
        found = None if parsed is None else await self.keys.session_owner(parsed[0])
        if parsed is None or found is None:
            return None
        session, key, person = found
        if session.expires_at <= self._clock.now() or not verify_secret(session, parsed[1]):
            return None
        if key is not None and key.revoked_at is None:
            return key.principal()
        if person is not None and person.active:
            return person.principal()
        return None

    async def end_session(self, token: str) -> None:
        """Sign out: the session is deleted server-side (its cookie is then worthless)."""
        parsed = parse_key(token, SESSION_PREFIX)
        if parsed is not None and await self.session_principal(token) is not None:
            await self.keys.end_session(parsed[0])
            _log.info("session.ended", session_id=parsed[0])

    async def create_feed_token(
        self, by: Principal, name: str, regulators: Collection[str] | None
    ) -> tuple[FeedToken, str]:
        """A read-only calendar feed token of ``by``'s key, at most ``by``'s scope."""
        if not name.strip():
            raise ValidationFailed("a feed token needs a name", field="name")
        narrowed = self.scope(regulators)
        scope = by.regulators if narrowed is None else frozenset(narrowed)
        if not may_grant(by, Role.READER, scope):
            raise ValidationFailed(
                "a feed may not reach beyond your regulators", field="regulators"
            )
        token_id, secret, token = new_secret(FEED_PREFIX)
        feed = FeedToken(
            token_id=token_id, key_id=by.key_id, name=name.strip(),
            regulators=None if scope is None else sorted(scope),
            secret_sha256=secret_hash(secret), created_at=self._clock.now(),
        )  # fmt: skip
        await self.keys.add_feed_token(feed)
        _log.info("feed_token.created", token_id=token_id, key_id=by.key_id)
        return feed, token

    async def create_feed_token_for(
        self, key_id: str, name: str, regulators: Collection[str] | None
    ) -> tuple[FeedToken, str]:
        """The command line's way: a feed token acting for the (unrevoked) key ``key_id``."""
        key = await self.keys.get(key_id)
        if key is None or key.revoked_at is not None:
            raise NotFound("key", key_id)
        return await self.create_feed_token(key.principal(), name, regulators)

    async def feed_principal(self, token: str) -> Principal | None:
        """A reader principal for a valid feed token (whose key is unrevoked); else None."""
        parsed = parse_key(token, FEED_PREFIX)
        found = None if parsed is None else await self.keys.feed_token_key(parsed[0])
        if parsed is None or found is None:
            return None
        feed, key = found
        if feed.revoked_at is not None or key.revoked_at is not None:
            return None
        if not verify_secret(feed, parsed[1]):
            return None
        scope = None if feed.regulators is None else frozenset(feed.regulators)
        return Principal(key_id=key.key_id, name=feed.name, role=Role.READER, regulators=scope)

    async def feed_tokens(self, by: Principal | None) -> list[FeedToken]:
        """The feed tokens ``by`` manages: its own key's; an admin's, all in its scope."""
        return [t for t in await self.keys.feed_tokens() if self._manages(by, t)]

    async def revoke_feed_token(self, by: Principal | None, token_id: str) -> FeedToken:
        found = await self.keys.feed_token_key(token_id)
        if found is None or not self._manages(by, found[0]):
            raise NotFound("feed token", token_id)
        revoked = await self.keys.revoke_feed_token(token_id, self._clock.now())
        _log.info("feed_token.revoked", token_id=token_id, key_id=revoked.key_id)
        return revoked

    def _manages(self, by: Principal | None, token: FeedToken) -> bool:
        if by is None or token.key_id == by.key_id:
            return True
        return by.has_role(Role.ADMIN) and self.visible(by, token.regulators)
