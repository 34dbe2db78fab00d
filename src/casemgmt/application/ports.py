"""Ports: what the application needs from the outside world, and what each guarantees.

Every Protocol the application depends on is here (adapters implement them; the
composition root, ``casemgmt.bootstrap``, picks the implementations), with the plain data
some of them carry (``IdempotencyRecord``, ``DeliveryAttempt``, ``Closing``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

import msgspec

from casemgmt.application.envelope import AppendResult, Envelope, NewEvent
from casemgmt.domain.state.evolve import CaseState

if TYPE_CHECKING:  # data types of the ports below; their modules import this one
    from casemgmt.application.auth import ApiKey, DashboardSession, FeedToken
    from casemgmt.application.notifications import NotificationJob
    from casemgmt.application.readmodels import (
        CaseChange,
        CaseFilter,
        CaseRow,
        DeadlineFilter,
        DeadlineRow,
        SideCounts,
        StageCount,
    )
    from casemgmt.application.reminders.policy import (
        DeliveryJob,
        DeliveryRecord,
        OverdueDeadline,
        SendResult,
        Subscription,
    )
    from casemgmt.application.users import User

__all__ = [
    "BulkProjector",
    "CaseQueries",
    "CaseSnapshots",
    "CaseUnitOfWork",
    "CaseWrite",
    "CaseWriter",
    "Clock",
    "Closing",
    "CredentialChanges",
    "DeliveryAttempt",
    "DeliveryStore",
    "EventStore",
    "Gauges",
    "IdempotencyRecord",
    "IdempotencyStore",
    "KeyRepository",
    "MailMessage",
    "MailSender",
    "NotificationStore",
    "OverdueSource",
    "PasswordHasher",
    "Probe",
    "Probes",
    "Projector",
    "Reader",
    "SubscriptionRepository",
    "UnitOfWork",
    "UserRepository",
    "WebhookSender",
]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class Probe(Protocol):
    async def __call__(self) -> None:
        """Return when the dependency answers; raise (any error, with its reason) if not."""
        ...


@dataclass(frozen=True)
class Probes:
    """What ``/health`` checks: the database and, when one is configured, the broker."""

    database: Probe
    broker: Probe | None


class Gauges(Protocol):
    async def refresh(self) -> None:
        """Read the current figures (store head, projection lag, queues) into the gauges."""
        ...


class EventStore(Protocol):
    """An append-only log of case streams with a global, gap-tolerant position order.

    All methods run inside the unit of work that owns the store: nothing is visible to
    other readers until that unit of work commits, and a rollback leaves no trace.
    """

    async def append(
        self,
        case_id: str,
        regulator: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
    ) -> AppendResult:
        """Append ``events`` to the case as versions ``current+1 .. current+n``, atomically.

        ``expected_version`` None appends at whatever the current version is; 0 means the
        case must not exist yet. A stale expected version raises ``ConcurrencyConflict``
        naming the current version and writes nothing. When every ``event_id`` is already
        stored with the same content the stored envelopes are returned with
        ``replayed=True`` and nothing is written; an ``event_id`` stored with other
        content (or only some of the ids stored) raises ``IdempotencyConflict``.
        """
        ...

    async def append_many(
        self, batches: Sequence[tuple[str, str, Sequence[NewEvent], int]]
    ) -> list[AppendResult]:
        """Append ``(case_id, regulator, events, expected_version)`` for many cases.

        Each case at exactly its expected version; no idempotent replay here (callers
        check ids first). A lost race raises ``ConcurrencyConflict`` with rows of other
        cases possibly written: the unit of work must then be rolled back.
        """
        ...

    async def read_case(
        self, case_id: str, from_version: int = 1, to_version: int | None = None
    ) -> list[Envelope]:
        """The case's events in version order (empty if the case does not exist)."""
        ...

    async def find(self, regulator: str, event_ids: Collection[str]) -> list[Envelope]:
        """The stored events of ``regulator`` among ``event_ids`` (any of its cases), in
        position order. Event ids are unique per regulator: another regulator's events
        are never found, so an id can neither reveal nor block another regulator's."""
        ...

    async def current_version(self, case_id: str) -> int:
        """The case's last version, 0 if it has no events."""
        ...

    async def regulator_of(self, case_id: str) -> str | None:
        """The case's regulator (one indexed row, nothing decoded), None if there is no
        such case: the scope check that comes before any other read of a case."""
        ...

    async def read_all(
        self,
        after_position: int,
        limit: int,
        regulators: Collection[str] | None = None,
    ) -> list[Envelope]:
        """The global feed: up to ``limit`` events that follow ``after_position``.

        Never skips: a consumer that pages with the position of the last event it
        received sees every committed event exactly once, even when concurrent
        transactions commit out of position order (the feed only returns events whose
        writing transaction is older than every transaction still in flight).
        ``regulators`` restricts the feed to those regulators' events.
        """
        ...


class UnitOfWork(Protocol):
    """One database transaction: the store and the inline projections share it."""

    events: EventStore

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless ``commit`` was called."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class DeliveryAttempt(msgspec.Struct, frozen=True, kw_only=True):
    """One HTTP attempt, as the delivery log shows it."""

    attempt: int
    generation: int
    at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    outcome: Literal["delivered", "retry", "dead"]


class Closing(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery row to settle in the transaction that appends its outcome event:
    ``delivered``/``dead`` (closed), ``cancelled`` (no request made), or ``pending`` with
    a retry's ``lease_until``; ``attempt`` is logged when there was one."""

    reminder_id: str
    subscription_id: str
    claim_token: str | None
    status: Literal["pending", "delivered", "dead", "cancelled"]
    attempt: DeliveryAttempt | None
    at: datetime
    lease_until: datetime | None = None


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a request with an ``Idempotency-Key`` produced, kept until ``expires_at``."""

    key_id: str
    idempotency_key: str
    request_hash: str
    case_id: str
    event_ids: list[str]
    created_at: datetime
    expires_at: datetime
    status_code: int = 201


class IdempotencyStore(Protocol):
    async def get(self, key_id: str, idempotency_key: str) -> IdempotencyRecord | None:
        """The record of this caller's key, expired or not; None if never used."""
        ...

    async def put(self, record: IdempotencyRecord) -> None:
        """Store the record (replacing an expired one with the same key)."""
        ...


class CaseSnapshots(Protocol):
    async def load(self, case_id: str) -> tuple[int, CaseState] | None:
        """The case's current version and state, None if the case has no events.

        Exact: built from the snapshot the inline projection keeps plus any newer events
        of the stream, so it always reflects every event committed to the case.
        """
        ...

    async def load_many(self, case_ids: Collection[str]) -> dict[str, tuple[int, CaseState]]:
        """``load`` of many cases at once; cases without events are absent from the result."""
        ...


class CaseWrite(msgspec.Struct, frozen=True, kw_only=True):
    """A command's events for one case, decided on its state at ``version``; ``state`` is
    the case after them."""

    case_id: str
    regulator: str
    events: list[NewEvent]
    version: int
    state: CaseState


class CaseWriter(Protocol):
    """The fast path of case commands (#13): recent case states kept in memory, and the
    appends of concurrent commands written together, one transaction for the group.

    ``write`` answers each command alone: its envelopes, or None when nothing of it was
    written (the case moved on, an id is taken, the group's statement failed); the caller
    then takes the full path, which reads the case again. Never a neighbour's failure.
    """

    def cached(self, case_id: str) -> tuple[int, CaseState] | None:
        """The case's version and state as last written or read by this process, if kept."""
        ...

    def remember(self, state: CaseState, last: Envelope) -> None:
        """Keep ``state`` as the case's state at ``last`` (its newest stored event)."""
        ...

    async def write(self, write: CaseWrite) -> AppendResult | None:
        """Append, project inline and commit ``write`` (with whatever else is waiting)."""
        ...


class CaseUnitOfWork(UnitOfWork, Protocol):
    """A unit of work for case commands: the store, snapshots, idempotency, projections."""

    snapshots: CaseSnapshots
    idempotency: IdempotencyStore

    async def project(self, changes: Sequence[CaseChange]) -> None:
        """Apply the inline projections to ``changes`` in this transaction."""
        ...

    async def close_delivery(self, closing: Closing) -> None:
        """Close a reminder delivery and log its last attempt in this transaction, so the
        worker's outcome event and the delivery row commit (or roll back) together.

        Closes only a delivery still ``pending`` under ``closing.claim_token`` (another
        claim's delivery is left as it is); the attempt is logged either way.
        """
        ...

    async def close_deliveries(self, closings: Sequence[Closing]) -> None:
        """``close_delivery`` for many, in a few statements."""
        ...


class CredentialChanges(Protocol):
    """Tells a process when a stored credential may have changed anywhere (a key revoked
    by any process, or by hand), so what it keeps in memory can be trusted until then."""

    def generation(self) -> int | None:
        """A number that changes whenever a credential may have changed since it was last
        returned; None while changes cannot be seen (not listening yet, the connection
        lost): read the database every time. Called from the event loop."""
        ...

    def changed(self) -> None:
        """This process changed a credential: move to a new generation at once."""
        ...

    async def aclose(self) -> None:
        """Stop listening."""
        ...


class KeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None:
        """Store a new key (its id is unique)."""
        ...

    async def get(self, key_id: str) -> ApiKey | None:
        """The key, revoked or not; None if there is no such key."""
        ...

    async def list(self) -> list[ApiKey]:
        """Every key, newest first."""
        ...

    async def revoke(self, key_id: str, at: datetime) -> ApiKey:
        """Mark the key revoked (its dashboard sessions end); ``NotFound`` if unknown."""
        ...

    async def add_session(self, session: DashboardSession) -> None:
        """Store a new dashboard session."""
        ...

    async def session_owner(
        self, session_id: str
    ) -> tuple[DashboardSession, ApiKey | None, User | None] | None:
        """The session with its key or its person (one read); None if there is none."""
        ...

    async def end_session(self, session_id: str) -> None:
        """Forget the session (nothing if it is already gone)."""
        ...

    async def add_feed_token(self, token: FeedToken) -> None:
        """Store a new feed token."""
        ...

    async def feed_token_key(self, token_id: str) -> tuple[FeedToken, ApiKey] | None:
        """The feed token and its key (one read); None if there is no such token."""
        ...

    async def feed_tokens(self) -> Sequence[FeedToken]:
        """Every feed token, newest first."""
        ...

    async def revoke_feed_token(self, token_id: str, at: datetime) -> FeedToken:
        """Mark the feed token revoked; raises ``NotFound`` for an unknown id."""
        ...


class UserRepository(Protocol):
    """People (``users``). Every read goes to the database, so a disabled person is
    refused by every API process on their next request."""

    async def add(self, user: User) -> None:
        """Store a new person; ``Conflict`` naming ``email`` if the address is taken."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def by_email(self, email: str) -> User | None:
        """The person with this (normalised) address, disabled or not."""
        ...

    async def list(self) -> list[User]:
        """Every person, by name."""
        ...

    async def set_invite(self, user_id: str, invite_sha256: str, expires_at: datetime) -> None:
        """Replace the person's invite (an older code stops working)."""
        ...

    async def set_password(
        self, user_id: str, password_hash: str, at: datetime, *, invite_sha256: str | None
    ) -> bool:
        """Store a new password hash. With ``invite_sha256``, only if that invite is still
        the person's (compare-and-set), and burn it; False when it was not (used already)."""
        ...

    async def set_disabled(self, user_id: str, at: datetime | None) -> None:
        """Disable (``at``) or re-enable (None) the person; disabling ends their sessions
        in the same transaction."""
        ...


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id); its methods may block for ~0.1 s."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; False (never an error) for a wrong one."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's."""
        ...


class Projector(Protocol):
    """An inline projection: applied in the append transaction, idempotent per case version."""

    name: str

    async def apply(self, changes: Sequence[CaseChange]) -> None: ...


class BulkProjector(Projector, Protocol):
    """A projector a rebuild can load in bulk: ``fresh_rows(changes)`` is what ``apply``
    writes for cases that have no rows yet, as (table, rows) pairs (the table as the
    adapter knows it), computed without the database."""

    def fresh_rows(
        self, changes: Sequence[CaseChange]
    ) -> Sequence[tuple[object, Sequence[dict[str, Any]]]]: ...


class CaseQueries(Protocol):
    """Queries over the read models; ``scope`` None means every regulator."""

    async def list_cases(
        self,
        filters: CaseFilter,
        scope: Collection[str] | None,
        after_seq: int | None,
        limit: int,
    ) -> list[CaseRow]:
        """Newest first by the position of ``case_opened``; stable while cases are added."""
        ...

    async def get_case(self, case_id: str) -> CaseRow | None: ...

    async def deadlines(
        self,
        filters: DeadlineFilter,
        scope: Collection[str] | None,
        after: tuple[int, datetime, str, str] | None,
        limit: int | None,
    ) -> list[DeadlineRow]:
        """Most urgent first by ``(queue_rank, due_at, case_id, deadline_id)``: our missed
        duties (most days late first), then ours soonest due, then theirs."""
        ...

    async def stage_counts(self, scope: Collection[str] | None) -> list[StageCount]: ...

    async def overdue_counts(self, scope: Collection[str] | None, now: datetime) -> dict[str, int]:
        """Per regulator: duties past due at ``now`` and not met (open or missed)."""
        ...

    async def side_counts(
        self, scope: Collection[str] | None, now: datetime, our_party: str | None = None
    ) -> SideCounts:
        """The queue at ``now`` counted by side, obligation and lateness (of the cases
        tracked by ``our_party``, or all)."""
        ...


class Reader(Protocol):
    events: EventStore


class DeliveryStore(Protocol):
    async def job(self, reminder_id: str, subscription_id: str, sent_id: str) -> DeliveryJob | None:
        """The delivery with its reminder, deadline and subscription; ``already_sent`` when
        the event ``sent_id`` is stored. None if there is no such delivery."""
        ...

    async def jobs(
        self, wanted: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str], DeliveryJob]:
        """``job`` for many ``(reminder_id, subscription_id, sent_id)``, keyed by the pair;
        deliveries that do not exist are left out."""
        ...

    async def start(
        self,
        claims: Sequence[tuple[str, str, str]],
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> set[tuple[str, str]]:
        """Atomically take each pending delivery whose claim token is still the claim's
        (or already ``token``) for ``token`` until ``lease_until``; the pairs taken."""
        ...

    async def renew(
        self, keys: Sequence[tuple[str, str]], token: str, lease_until: datetime, now: datetime
    ) -> int:
        """Extend to ``lease_until`` the claim of each of these pending deliveries still
        held under ``token`` (a heartbeat); how many were renewed."""
        ...

    async def settle(self, closing: Closing) -> None:
        """``CaseUnitOfWork.close_delivery`` in a transaction of its own."""
        ...


class NotificationStore(Protocol):
    """The event deliveries (``application.notifications``); ``Closing.reminder_id``
    carries the notification id (regulator/event id)."""

    async def jobs(
        self, wanted: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], NotificationJob]:
        """The deliveries of these (notification_id, subscription_id) pairs with their
        subscription; pairs that do not exist are left out."""
        ...

    async def start(
        self,
        claims: Sequence[tuple[str, str, str]],
        token: str,
        lease_until: datetime,
        now: datetime,
    ) -> set[tuple[str, str]]:
        """Atomically take each pending delivery whose claim token is still the claim's
        (or already ``token``) for ``token`` until ``lease_until``; the pairs taken."""
        ...

    async def renew(
        self, keys: Sequence[tuple[str, str]], token: str, lease_until: datetime, now: datetime
    ) -> int:
        """``DeliveryStore.renew`` for event deliveries."""
        ...

    async def close(self, closings: Sequence[Closing]) -> None:
        """Settle the deliveries (each only while pending under its claim token) and log
        their attempts, in one transaction."""
        ...


class WebhookSender(Protocol):
    async def send(self, url: str, secret: str, message_id: str, body: bytes) -> SendResult:
        """POST ``body`` signed with ``secret``; never raises for network or HTTP errors."""
        ...


class OverdueSource(Protocol):
    async def overdue(self, now: datetime, limit: int) -> list[OverdueDeadline]:
        """Open deadlines (duties and windows) whose due instant is before ``now``, oldest
        first."""
        ...


class SubscriptionRepository(Protocol):
    async def add(self, subscription: Subscription) -> None: ...

    async def get(self, subscription_id: str) -> Subscription | None:
        """The subscription, deleted or not; None if there never was one."""
        ...

    async def active(self) -> list[Subscription]:
        """Subscriptions not deleted, oldest first."""
        ...

    async def delete(self, subscription_id: str, at: datetime) -> None:
        """Soft-delete: no new deliveries; its delivery log stays readable."""
        ...

    async def deliveries(
        self, subscription_id: str, after: tuple[datetime, str] | None, limit: int
    ) -> list[DeliveryRecord]:
        """Newest first by ``(created_at, reminder_id)``, each with its attempts."""
        ...


class MailMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One plain-text email (the From address is the sender's setting)."""

    to: str
    subject: str
    body: str


class MailSender(Protocol):
    """Mail out (SMTP in ``adapters.mail``); errors never carry the server's password."""

    async def send(self, messages: Sequence[MailMessage]) -> None:
        """Send every message (one connection); raises if the server refuses one."""
        ...
