"""The composition root: the one place that builds concrete objects from settings.

Every process asks this module for what it needs and imports no adapter itself:
the HTTP app and the CLI call :func:`build_container`; the worker calls
:func:`build_worker`; operators' commands use :class:`Operations`. Services are typed by
the application's ports, so callers see contracts, not SQL classes. Nothing here runs
at import, and building does no I/O but file reads (engines connect lazily).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from casemgmt.adapters.broker import broker_check
from casemgmt.adapters.chain import ChainKeys
from casemgmt.adapters.clock import FileClock, SystemClock
from casemgmt.adapters.codec import EventCodec
from casemgmt.adapters.mail import SmtpMailSender
from casemgmt.adapters.outages import unavailable_dependency
from casemgmt.adapters.passwords import Argon2Passwords
from casemgmt.adapters.regime_files import load_registry
from casemgmt.adapters.secretbox import SecretBox
from casemgmt.adapters.sql.case_uow import CaseSqlUnitOfWork, ProjectorFactory
from casemgmt.adapters.sql.case_writer import SqlCaseWriter
from casemgmt.adapters.sql.diagnose import database_problem, masked_url
from casemgmt.adapters.sql.engine import create_engine, ping
from casemgmt.adapters.sql.eventstore.checkpoints import write_checkpoint
from casemgmt.adapters.sql.eventstore.verify import VerifyReport, verify_chains
from casemgmt.adapters.sql.migrations import upgrade_to_head
from casemgmt.adapters.sql.notifications import (
    ListenedTypes,
    NotificationProjector,
    SqlNotificationStore,
    claim_events,
)
from casemgmt.adapters.sql.ops.credential_changes import credential_changes
from casemgmt.adapters.sql.ops.housekeeping import (
    purge_expired_idempotency_keys,
    purge_sqlite_broker,
)
from casemgmt.adapters.sql.ops.keys import SqlKeyRepository
from casemgmt.adapters.sql.ops.metrics import SystemMetrics
from casemgmt.adapters.sql.ops.partitions import (
    EnsuredPartition,
    PartitionListing,
    ensure_partitions,
    keep_partitions_ahead,
    list_partitions,
    partition_gauges,
)
from casemgmt.adapters.sql.ops.users import SqlUserRepository
from casemgmt.adapters.sql.projections import inline_projectors, projection_specs
from casemgmt.adapters.sql.readmodels.queries import SqlCaseQueries
from casemgmt.adapters.sql.readmodels.rebuild import RebuildReport, rebuild_projections
from casemgmt.adapters.sql.reminders.admin import (
    ReminderListing,
    list_reminders,
    reminder_gauges,
    retry_dead,
)
from casemgmt.adapters.sql.reminders.store import (
    SqlDeliveryStore,
    SqlOverdueSource,
    claim_due,
)
from casemgmt.adapters.sql.reminders.subscriptions import SqlSubscriptionRepository
from casemgmt.adapters.sql.roles import grant_app_role
from casemgmt.adapters.sql.uow import SqlReader
from casemgmt.adapters.upcasters import UPCASTERS
from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.access import AccessService
from casemgmt.application.cases import CaseService
from casemgmt.application.digests import DigestService
from casemgmt.application.imports import ImportService
from casemgmt.application.notifications import EventDelivery
from casemgmt.application.people import PeopleService
from casemgmt.application.ports import (
    Clock,
    CredentialChanges,
    Gauges,
    KeyRepository,
    Probe,
    Probes,
    Reader,
)
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.reminders.delivery import MissedDeadlines, ReminderDelivery
from casemgmt.application.reminders.policy import RetryPolicy, SubscriptionService
from casemgmt.application.reminders.recording import OutcomeRecorder
from casemgmt.application.reminders.targets import TargetPolicy
from casemgmt.domain.events import EVENT_TYPES
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.observability import Metrics
from casemgmt.settings import DatabaseSettings, Settings

__all__ = [
    "Container",
    "Operations",
    "PartitionListing",
    "WorkerServices",
    "build_codec",
    "build_container",
    "build_worker",
    "database_problem",
    "load_regimes",
    "masked_url",
    "projection_specs",
    "unavailable_dependency",
    "upgrade_database",
    "worker_clock",
]


def build_codec(chain: ChainKeys | None = None) -> EventCodec:
    """The event codec; new rows are sealed with ``chain`` (default: unkeyed)."""
    return EventCodec(EVENT_TYPES.values(), UPCASTERS, chain=chain)


def load_regimes(settings: Settings) -> RegimeRegistry:
    """The regimes of ``CASEMGMT_REGIMES_DIR`` (the packaged ones when unset)."""
    return load_registry(settings.regimes_dir or None)


def worker_clock(settings: Settings) -> Clock | None:
    """The ``CASEMGMT_CLOCK_FILE`` clock when set (tests, replays); None: the system clock."""
    return FileClock(settings.worker.clock_file) if settings.worker.clock_file else None


def upgrade_database(settings: Settings) -> list[EnsuredPartition]:
    """Migrate to the newest schema revision as the owner (``CASEMGMT_DATABASE_OWNER_URL``,
    default ``CASEMGMT_DATABASE_URL``), create the ``events`` month partitions
    ``CASEMGMT_EVENT_PARTITIONS_AHEAD`` ahead (PostgreSQL), then grant
    ``CASEMGMT_DB_APP_ROLE`` (if set) the app's privileges and no more. Returns what the
    partition check found (``[]`` on SQLite); any failure raises."""
    db = settings.database
    owner = db.owner_url or db.url
    upgrade_to_head(owner)
    return asyncio.run(_after_upgrade(owner, db))


async def _after_upgrade(owner: str, db: DatabaseSettings) -> list[EnsuredPartition]:
    engine = create_engine(owner, pool_size=1)
    try:
        ensured = await ensure_partitions(engine, db.event_partitions_ahead)
    finally:
        await engine.dispose()
    # After the partitions: the grants revoke UPDATE and DELETE on every one there is.
    if db.app_role:
        await grant_app_role(owner, db.app_role)
    return ensured


def _broker_probe(url: str) -> Probe:
    """The broker check on a thread, single-flight: callers arriving while a check runs
    await that check, so a slow broker never piles up threads."""
    check = broker_check(url)
    running: asyncio.Future[None] | None = None

    async def probe() -> None:
        nonlocal running
        loop = asyncio.get_running_loop()
        if running is None or running.done() or running.get_loop() is not loop:
            running = asyncio.ensure_future(asyncio.to_thread(check))
        await asyncio.shield(running)

    return probe


@dataclass
class Container:
    """Every long-lived service of a process, built from one ``Settings``.

    Entry points use the services (typed by ports); ``engine`` and ``codec`` are the
    wiring's raw materials, for this module (and tests that inspect the tables).
    """

    settings: Settings
    engine: AsyncEngine
    codec: EventCodec
    regimes: RegimeRegistry
    clock: Clock
    metrics: Metrics
    probes: Probes
    read_engine: AsyncEngine | None = None
    projectors: Sequence[ProjectorFactory] = field(init=False)
    keys: KeyRepository = field(init=False)
    credential_changes: CredentialChanges | None = field(init=False)
    access: AccessService = field(init=False)
    people: PeopleService = field(init=False)
    gauges: Gauges = field(init=False)
    cases: CaseService = field(init=False)
    writer: SqlCaseWriter | None = field(init=False)
    queries: CaseQueryService = field(init=False)
    imports: ImportService = field(init=False)
    secrets: SecretBox = field(init=False)
    subscriptions: SubscriptionService = field(init=False)
    targets: TargetPolicy = field(init=False)
    digests: DigestService = field(init=False)

    def __post_init__(self) -> None:
        self.targets = TargetPolicy.parse(self.settings.reminders.webhook_allowed_networks)
        # Event notifications are inline only: a rebuild must not announce old events.
        self.projectors = (
            *inline_projectors(projection_specs(self.regimes)),
            NotificationProjector,
        )
        self.keys = SqlKeyRepository(self.engine)
        # Behind PgBouncer (no statement cache) a LISTEN would not stay on one server
        # connection: no watch there, so every request reads its key.
        self.credential_changes = (
            credential_changes(self.engine) if self.settings.database.statement_cache else None
        )
        self.access = AccessService(
            self.keys,
            self.clock,
            regulators=self.regimes.regulators(),
            changes=self.credential_changes,
            key_cache_seconds=self.settings.api.key_cache_seconds,
        )
        self.people = PeopleService(
            SqlUserRepository(self.engine),
            Argon2Passwords(),
            self.access,
            self.clock,
            invite_hours=self.settings.api.invite_hours,
        )
        self.gauges = self._gauges()
        uow = partial(CaseSqlUnitOfWork, self.engine, self.codec, self.clock, self.projectors)
        self.writer = self._writer()
        self.cases = CaseService(
            uow,
            self.regimes,
            self.clock,
            idempotency_ttl_hours=max(24, self.settings.api.idempotency_ttl_hours),
            on_appended=self.metrics.count_appended,
            our_party=self.settings.our_party,
            writer=self.writer,
        )
        self.imports = ImportService(
            uow,
            self.regimes,
            self.clock,
            on_appended=self.metrics.count_appended,
            our_party=self.settings.our_party,
            # PostgreSQL takes a second transaction while one writes: the next batch is
            # decided meanwhile (SQLite's writers take turns; nothing to overlap).
            overlap=self.engine.dialect.name == "postgresql",
        )
        replica = self.read_engine or self.engine
        self.queries = CaseQueryService(
            SqlCaseQueries(replica),
            self.reader,
            self.regimes,
            self.clock,
            feed_reader=lambda: SqlReader(replica, self.codec),
        )
        self.secrets = SecretBox(self.settings.secret_keys)
        self.subscriptions = SubscriptionService(
            SqlSubscriptionRepository(self.engine, self.secrets), self.targets
        )
        smtp = self.settings.smtp_url
        self.digests = DigestService(
            self.people.users,
            self.queries,
            SmtpMailSender(smtp, self.settings.smtp_from) if smtp else None,
        )

    def _writer(self) -> SqlCaseWriter | None:
        """Group commit on PostgreSQL, on a small pool of its own (SQLite: one writer at a
        time anyway; commands take the unit-of-work path)."""
        if self.engine.dialect.name != "postgresql":
            return None
        db = self.settings.database
        engine = create_engine(
            self.engine.url.render_as_string(hide_password=False),
            pool_size=2,
            echo=db.echo,
            # A connection the restarted server closed is replaced at checkout (no round
            # trip; a ping only after 1 s idle): the transactional group path has no
            # ping of its own, and a database restart answered the next write 503.
            pre_ping=db.pre_ping,
            statement_cache=db.statement_cache,
        )
        return SqlCaseWriter(
            engine, self.codec, self.clock, self.projectors, listened=ListenedTypes(engine)
        )

    def _gauges(self) -> Gauges:
        gauges = SystemMetrics(
            self.engine,
            self.clock,
            self.metrics.registry,
            cache_seconds=self.settings.api.metrics_cache_seconds,
        )
        gauges.extra.append(reminder_gauges(self.metrics.registry))
        if self.engine.dialect.name == "postgresql":
            gauges.extra.append(partition_gauges(self.metrics.registry))
        return gauges

    def reader(self) -> AbstractAsyncContextManager[Reader]:
        """A read-only transaction over the store (``async with container.reader() as r``)."""
        return SqlReader(self.engine, self.codec)

    async def aclose(self) -> None:
        if self.credential_changes is not None:
            await self.credential_changes.aclose()
        await self.engine.dispose()
        if self.writer is not None:
            await self.writer.aclose()
        if self.read_engine is not None:
            await self.read_engine.dispose()


def build_container(
    settings: Settings, *, clock: Clock | None = None, regimes: RegimeRegistry | None = None
) -> Container:
    """Wire a container; the engine connects lazily, so this does no I/O but file reads."""
    engine, read_engine = _engine(settings, settings.database.url), None
    if settings.database.read_url:
        read_engine = _engine(settings, settings.database.read_url)
    broker = settings.worker.broker_url
    return Container(
        settings=settings,
        engine=engine,
        codec=build_codec(ChainKeys.parse(settings.database.chain_keys)),
        regimes=regimes or load_regimes(settings),
        clock=clock or SystemClock(),
        metrics=Metrics(),
        probes=Probes(
            database=partial(ping, engine), broker=_broker_probe(broker) if broker else None
        ),
        read_engine=read_engine,
    )


def _engine(settings: Settings, url: str) -> AsyncEngine:
    db = settings.database
    return create_engine(
        url,
        pool_size=db.pool_size,
        echo=db.echo,
        pre_ping=db.pre_ping,
        statement_cache=db.statement_cache,
    )


#: ``progress(done, total)``: events processed so far, of ``total`` (None: unknown).
Progress = Callable[[int, int | None], None]


class Operations:
    """What operators run from the command line, on a container's database."""

    def __init__(self, container: Container) -> None:
        self._c = container
        self._specs = projection_specs(container.regimes)

    @property
    def projection_names(self) -> list[str]:
        return sorted(self._specs)

    async def verify_chains(self, progress: Progress | None = None) -> VerifyReport:
        """Recompute every case's hash chain (see ``casemgmt verify``);
        ``progress(done, total)`` as events are checked."""
        return await verify_chains(self._c.engine, chain=self._c.codec.chain, progress=progress)

    async def rotate_secrets(self) -> int:
        """Re-encrypt every stored webhook secret with the first ``CASEMGMT_SECRET_KEYS``."""
        return await SqlSubscriptionRepository(self._c.engine, self._c.secrets).rotate_secrets()

    async def checkpoint(self) -> int:
        """Write a signed checkpoint of every case's head; returns how many cases."""
        return await write_checkpoint(self._c.engine, self._c.codec.chain, self._c.clock.now())

    async def rebuild(
        self, names: Sequence[str], progress: Progress | None = None
    ) -> list[RebuildReport]:
        """Rebuild the named projections (every one when ``names`` is empty) from one pass
        over the log, then swap each in, in order; ``LookupError`` naming the unknown ones
        (before any work) if a name is unknown. ``progress(done, total)`` as events go."""
        unknown = set(names) - self._specs.keys()
        if unknown:
            known = self.projection_names
            raise LookupError(f"unknown projection(s) {sorted(unknown)}; known: {known}")
        c = self._c
        specs = [self._specs[name] for name in names or self.projection_names]
        return await rebuild_projections(c.engine, c.codec, c.clock, specs, progress)

    async def partitions(self) -> PartitionListing | None:
        """The partitions of ``events`` in order, with the default partition's events by
        month; ``None`` when the store is one unpartitioned table (SQLite)."""
        return await list_partitions(self._c.engine)

    async def ensure_partitions(self, ahead: int | None = None) -> list[EnsuredPartition]:
        """Create the month partitions from this month to ``ahead`` months later (default
        ``CASEMGMT_EVENT_PARTITIONS_AHEAD``) now; ``[]`` on SQLite. Raises on failure."""
        if ahead is None:
            ahead = self._c.settings.database.event_partitions_ahead
        return await ensure_partitions(self._c.engine, ahead)

    async def reminders(self, status: str | None, limit: int) -> list[ReminderListing]:
        return await list_reminders(self._c.engine, status, limit)

    async def retry_dead(self, reminder_id: str | None) -> int:
        """Re-queue dead-lettered deliveries (of one reminder, or all of them)."""
        return await retry_dead(self._c.engine, reminder_id, self._c.clock.now())


class WorkerServices:
    """What the worker's tasks call, built inside the worker process's event loop."""

    def __init__(self, settings: Settings) -> None:
        r = settings.reminders
        self.settings = settings
        self.container = build_container(settings, clock=worker_clock(settings))
        self.client = build_client(
            r.timeout_seconds, self.container.targets, max_connections=r.parallel_requests
        )
        c = self.container
        policy = RetryPolicy(
            r.max_attempts,
            r.backoff_base_seconds,
            r.backoff_max_seconds,
            floor_seconds=r.backoff_floor_seconds,
            min_span_seconds=r.retry_span_seconds,
        )
        recorder = OutcomeRecorder(
            partial(CaseSqlUnitOfWork, c.engine, c.codec, c.clock, c.projectors),
            c.regimes,
            c.clock,
            our_party=settings.our_party,
            on_appended=c.metrics.count_appended,
        )
        self.delivery = ReminderDelivery(
            SqlDeliveryStore(c.engine, c.secrets),
            HttpxWebhookSender(self.client),
            c.cases,
            c.regimes,
            c.clock,
            policy,
            r.claim_lease_seconds,
            start_grace_seconds=r.claim_start_grace_seconds,
            recorder=recorder,
            parallel=r.parallel_requests,
            unrecorded=r.max_unrecorded,
        )
        self.missed = MissedDeadlines(SqlOverdueSource(c.engine), c.cases, c.clock)
        self.events = EventDelivery(
            SqlNotificationStore(c.engine, c.secrets),
            HttpxWebhookSender(self.client),
            c.clock,
            policy,
            r.claim_lease_seconds,
            start_grace_seconds=r.claim_start_grace_seconds,
            parallel=r.parallel_requests,
            unrecorded=r.max_unrecorded,
        )

    async def claim_events(self) -> tuple[list[tuple[str, str, str]], bool]:
        """Claim deliverable event notifications: (event, subscription, claim token) each,
        and True when a full batch suggests more are waiting."""
        r = self.settings.reminders
        now = self.container.clock.now()
        grace = r.claim_start_grace_seconds
        return await claim_events(self.container.engine, now, r.claim_batch, grace)

    async def claim(self) -> tuple[list[tuple[str, str, str]], bool]:
        """Claim due deliveries now: (reminder, subscription, claim token) each, and True
        when a full batch suggests more are waiting."""
        r = self.settings.reminders
        now = self.container.clock.now()
        # The scan's claim holds only until the task starts (which takes the lease and
        # renews it while it runs).
        grace = r.claim_start_grace_seconds
        return await claim_due(self.container.engine, now, r.claim_batch, grace)

    async def send_digests(self) -> int:
        """Mail today's digests (``CASEMGMT_SMTP_URL``; off when empty): how many sent."""
        if not self.container.digests.enabled:
            return 0
        report = await self.container.digests.send(self.container.clock.now())
        return report.sent

    async def housekeeping(self) -> int:
        """Keep the ``events`` month partitions ``CASEMGMT_EVENT_PARTITIONS_AHEAD`` ahead
        (PostgreSQL; a failure there is logged as a warning and the rest goes on), purge
        what has expired, and sign a checkpoint of the log when a chain key is configured;
        returns how many rows were purged."""
        # First: it never raises, so a failing checkpoint cannot starve it.
        ahead = self.settings.database.event_partitions_ahead
        await keep_partitions_ahead(self.container.engine, ahead)
        now = self.container.clock.now()
        if self.container.codec.chain.active is not None:
            await Operations(self.container).checkpoint()
        keys = await purge_expired_idempotency_keys(self.container.engine, now)
        broker = await asyncio.to_thread(
            purge_sqlite_broker,
            self.settings.worker.broker_url,
            datetime.now(),  # noqa: DTZ005 - kombu stores local naive times
        )
        return keys + broker

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.container.aclose()


async def build_worker(settings: Settings) -> WorkerServices:
    """The worker's services; call it on the event loop that will run the tasks."""
    return WorkerServices(settings)
