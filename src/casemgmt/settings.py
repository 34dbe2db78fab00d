"""Settings, grouped by concern, read from ``CASEMGMT_*`` environment variables.

Nothing reads the environment at import time: :func:`Settings.from_env` is called by the
process roots (``api/``, ``workers/``) and the CLI, and the result is passed down.
Every field documents itself; ``casemgmt settings`` prints the table the README shows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = [
    "ApiSettings",
    "DatabaseSettings",
    "LogSettings",
    "ReminderSettings",
    "Settings",
    "WorkerSettings",
    "project_root",
    "resolve_sqlite_url",
    "setting_rows",
]


def _doc(default: Any, doc: str, env: str) -> Any:
    return field(default=default, metadata={"doc": doc, "env": env})


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str = _doc(
        "sqlite+aiosqlite:///var/casemgmt.sqlite",
        "SQLAlchemy async URL of the event store and read models "
        "(sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db).",
        "CASEMGMT_DATABASE_URL",
    )
    read_url: str = _doc(
        "",
        "Optional URL of a read-only copy (a streaming replica) that case lists, the deadline "
        "queue, statistics and the event feed read; a case and its timeline, read right "
        "after a write, stay on CASEMGMT_DATABASE_URL. Empty: everything reads the primary.",
        "CASEMGMT_DATABASE_READ_URL",
    )
    pool_size: int = _doc(10, "Connections kept per process (PostgreSQL).", "CASEMGMT_DB_POOL_SIZE")
    echo: bool = _doc(False, "Log every SQL statement (debugging only).", "CASEMGMT_DB_ECHO")
    pre_ping: bool = _doc(
        True,
        "Test each pooled connection before use and replace dead ones (heals after a "
        "database restart).",
        "CASEMGMT_DB_PRE_PING",
    )
    statement_cache: bool = _doc(
        True,
        "asyncpg prepared-statement caches; set false behind PgBouncer in transaction "
        "pooling mode.",
        "CASEMGMT_DB_STATEMENT_CACHE",
    )
    owner_url: str = _doc(
        "",
        "PostgreSQL: URL of the role that owns the schema; casemgmt db upgrade migrates as "
        "it (empty: CASEMGMT_DATABASE_URL). The app itself connects as CASEMGMT_DATABASE_URL.",
        "CASEMGMT_DATABASE_OWNER_URL",
    )
    app_role: str = _doc(
        "",
        "PostgreSQL: the role the app connects as; casemgmt db upgrade grants it what the "
        "app needs (events: SELECT and INSERT only) and nothing more. Empty: no grants.",
        "CASEMGMT_DB_APP_ROLE",
    )
    event_partitions_ahead: int = _doc(
        3,
        "PostgreSQL: month partitions of the events table kept ready beyond the current "
        "month (0-120); the worker's hourly housekeeping and casemgmt db upgrade create "
        "the missing ones (casemgmt events partitions lists them).",
        "CASEMGMT_EVENT_PARTITIONS_AHEAD",
    )
    chain_keys: str = _doc(
        "",
        "Keys of the tamper-evident hash chain, kept outside the database: id=secret pairs "
        "(secrets of 32+ characters), comma-separated; the first seals new events and signs "
        "checkpoints, all verify (rotation). Empty: plain SHA-256 (unkeyed).",
        "CASEMGMT_CHAIN_KEYS",
    )


@dataclass(frozen=True, slots=True)
class ApiSettings:
    host: str = _doc("127.0.0.1", "Interface the API binds to.", "CASEMGMT_HOST")
    port: int = _doc(8000, "TCP port of the API.", "CASEMGMT_PORT")
    max_body_bytes: int = _doc(
        1_048_576, "Largest accepted request body (413 above it).", "CASEMGMT_MAX_BODY_BYTES"
    )
    max_import_bytes: int = _doc(
        268_435_456, "Largest accepted NDJSON bulk import body.", "CASEMGMT_MAX_IMPORT_BYTES"
    )
    import_max_lines: int = _doc(
        100_000,
        "Most lines one NDJSON import may hold (413 above it; split larger files).",
        "CASEMGMT_IMPORT_MAX_LINES",
    )
    import_max_line_bytes: int = _doc(
        65_536, "Longest line of an NDJSON import.", "CASEMGMT_IMPORT_MAX_LINE_BYTES"
    )
    idempotency_ttl_hours: int = _doc(
        48,
        "How long Idempotency-Key results are kept (at least 24).",
        "CASEMGMT_IDEMPOTENCY_TTL_HOURS",
    )
    retry_after_seconds: int = _doc(
        5,
        "Retry-After of the 503 answered while the database or broker is unavailable.",
        "CASEMGMT_RETRY_AFTER_SECONDS",
    )
    debug: bool = _doc(False, "Litestar debug mode (tracebacks in responses).", "CASEMGMT_DEBUG")
    trusted_proxies: str = _doc(
        "",
        "Comma-separated addresses or CIDRs of the TLS-terminating proxies whose "
        "X-Forwarded-Proto is believed (dashboard cookies are then Secure); empty: none.",
        "CASEMGMT_TRUSTED_PROXIES",
    )
    auth_failures_per_minute: float = _doc(
        10.0,
        "Failed authentications a client address may make per minute (in each API "
        "process), after a burst of CASEMGMT_AUTH_FAILURE_BURST; then 429 with Retry-After "
        "for every request it authenticates. 0: no limit.",
        "CASEMGMT_AUTH_FAILURES_PER_MINUTE",
    )
    auth_failure_burst: int = _doc(
        20, "Failed authentications an address may make at once.", "CASEMGMT_AUTH_FAILURE_BURST"
    )
    key_requests_per_second: float = _doc(
        100.0,
        "Requests one API key may make per second (in each API process), after a burst of "
        "CASEMGMT_KEY_REQUEST_BURST; then 429 with Retry-After. 0: no limit.",
        "CASEMGMT_KEY_REQUESTS_PER_SECOND",
    )
    key_request_burst: int = _doc(
        500, "Requests one API key may make at once.", "CASEMGMT_KEY_REQUEST_BURST"
    )
    key_cache_seconds: float = _doc(
        2.0,
        "PostgreSQL: how long an API process may keep a key it read in memory while it "
        "listens for credential changes (a revocation anywhere clears every process's keys "
        "as soon as PostgreSQL notifies it; the bound covers a listening connection that "
        "silently stopped). 0, SQLite, or CASEMGMT_DB_STATEMENT_CACHE=false (PgBouncer, no "
        "LISTEN): every request reads its key.",
        "CASEMGMT_KEY_CACHE_SECONDS",
    )
    invite_hours: float = _doc(
        72.0,
        "How long a person's invite code (to set a password) stays valid.",
        "CASEMGMT_INVITE_HOURS",
    )
    metrics_token: str = _doc(
        "",
        "Bearer token a Prometheus scraper sends to read /metrics; when empty, /metrics "
        "needs an admin API key.",
        "CASEMGMT_METRICS_TOKEN",
    )
    metrics_cache_seconds: float = _doc(
        5.0,
        "How long /metrics reuses the gauges it read from the database (scrapes in between "
        "cost no query).",
        "CASEMGMT_METRICS_CACHE_SECONDS",
    )


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    broker_url: str = _doc(
        "sqla+sqlite:///var/broker.sqlite",
        "Celery broker: sqla+sqlite:///path (embedded), redis://host:6379/0 or "
        "amqp://guest:guest@host:5672//.",
        "CASEMGMT_BROKER_URL",
    )
    result_backend: str = _doc(
        "",
        "Celery result backend; empty means none (tasks record results as events).",
        "CASEMGMT_RESULT_BACKEND",
    )
    scan_interval_seconds: float = _doc(
        60.0,
        "How often beat scans for due reminders and missed deadlines.",
        "CASEMGMT_SCAN_INTERVAL_SECONDS",
    )
    pool: str = _doc(
        "prefork",
        "Celery pool: prefork (one event loop per child process) or threads (the tasks of "
        "one process share its event loop, engine and HTTP client).",
        "CASEMGMT_WORKER_POOL",
    )
    concurrency: int = _doc(
        2,
        "Tasks a worker runs at once: processes (prefork) or threads (pool=threads).",
        "CASEMGMT_WORKER_CONCURRENCY",
    )
    queue: str = _doc(
        "casemgmt",
        "Broker queue of the reminder tasks (deployments sharing a broker use their own).",
        "CASEMGMT_WORKER_QUEUE",
    )
    prefetch_multiplier: int = _doc(
        4,
        "Tasks each worker process reserves ahead (acks are late, so a crashed worker's "
        "reserved tasks are redelivered or re-claimed).",
        "CASEMGMT_WORKER_PREFETCH_MULTIPLIER",
    )
    visibility_timeout_seconds: float = _doc(
        3600.0,
        "Redis/SQS: an unacknowledged task is redelivered after this long. Must exceed the "
        "longest retry delay (CASEMGMT_REMINDER_BACKOFF_MAX_SECONDS) plus a delivery.",
        "CASEMGMT_BROKER_VISIBILITY_TIMEOUT_SECONDS",
    )
    clock_file: str = _doc(
        "",
        "Testing and replays only: a file holding an ISO 8601 instant that worker and beat "
        "processes use as 'now' (re-read on every use); empty means the system clock.",
        "CASEMGMT_CLOCK_FILE",
    )


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    max_attempts: int = _doc(
        12,
        "Delivery attempts before a reminder is dead-lettered.",
        "CASEMGMT_REMINDER_MAX_ATTEMPTS",
    )
    backoff_base_seconds: float = _doc(
        60.0,
        "Longest first retry delay; doubles per attempt, with equal jitter (half to all).",
        "CASEMGMT_REMINDER_BACKOFF_BASE_SECONDS",
    )
    backoff_max_seconds: float = _doc(
        900.0, "Longest retry delay.", "CASEMGMT_REMINDER_BACKOFF_MAX_SECONDS"
    )
    backoff_floor_seconds: float = _doc(
        5.0, "Shortest retry delay.", "CASEMGMT_REMINDER_BACKOFF_FLOOR_SECONDS"
    )
    retry_span_seconds: float = _doc(
        3600.0,
        "Least total time the retries of one delivery are spread over before it is "
        "dead-lettered (the schedule stretches to cover it; start-up fails if the attempts "
        "and longest delay cannot).",
        "CASEMGMT_REMINDER_RETRY_SPAN_SECONDS",
    )
    timeout_seconds: float = _doc(
        10.0, "HTTP timeout of one webhook delivery.", "CASEMGMT_REMINDER_TIMEOUT_SECONDS"
    )
    claim_batch: int = _doc(500, "Most reminders one scan claims.", "CASEMGMT_REMINDER_CLAIM_BATCH")
    delivery_batch: int = _doc(
        100,
        "Claimed deliveries one worker task takes and sends concurrently (outcomes recorded "
        "as they come, in groups).",
        "CASEMGMT_REMINDER_DELIVERY_BATCH",
    )
    parallel_requests: int = _doc(
        8,
        "Webhook requests one worker process keeps in flight at once (its pooled, "
        "keep-alive HTTP client's connection limit).",
        "CASEMGMT_REMINDER_PARALLEL_REQUESTS",
    )
    max_unrecorded: int = _doc(
        64,
        "Webhook requests of one worker process started and not yet recorded, at most "
        "(outcomes are recorded as they come, in groups): all a worker killed with -9 can "
        "send again (with the same webhook-id, recorded once). Lower: fewer re-sends after "
        "a crash, smaller recording transactions, less throughput.",
        "CASEMGMT_REMINDER_MAX_UNRECORDED",
    )
    webhook_allowed_networks: str = _doc(
        "",
        "Comma-separated CIDRs webhooks may reach besides public addresses (loopback, "
        "private, link-local, multicast and reserved ones are refused otherwise), e.g. "
        "127.0.0.0/8 for a receiver on this machine.",
        "CASEMGMT_WEBHOOK_ALLOWED_NETWORKS",
    )
    claim_lease_seconds: float = _doc(
        30.0,
        "A started delivery's claim outlives its task's last heartbeat by this (the task "
        "renews it every third of it while it runs): a worker killed mid-delivery leaves "
        "its reminders claimable again within this plus a scan interval.",
        "CASEMGMT_REMINDER_CLAIM_LEASE_SECONDS",
    )
    claim_start_grace_seconds: float = _doc(
        60.0,
        "A claimed delivery whose task has not started within this is claimed and published "
        "again (a broker that lost its queue strands a reminder no longer than this plus a "
        "scan interval); a started task holds its claim while it renews it.",
        "CASEMGMT_REMINDER_START_GRACE_SECONDS",
    )


@dataclass(frozen=True, slots=True)
class LogSettings:
    level: str = _doc("INFO", "Log level.", "CASEMGMT_LOG_LEVEL")
    json: bool = _doc(True, "JSON logs (false: human-readable console).", "CASEMGMT_LOG_JSON")


@dataclass(frozen=True, slots=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    log: LogSettings = field(default_factory=LogSettings)
    regimes_dir: str = _doc(
        "",
        "Extra directory of regime TOML files (adds or overrides regulators).",
        "CASEMGMT_REGIMES_DIR",
    )
    secret_keys: str = _doc(
        "",
        "Fernet keys encrypting webhook secrets at rest, comma-separated: the first "
        "encrypts, all decrypt (rotation: put a new key first, run casemgmt secrets "
        "rotate, then drop the old). Empty: secrets are stored unencrypted.",
        "CASEMGMT_SECRET_KEYS",
    )
    var_dir: str = _doc("var", "Directory for the embedded databases and logs.", "CASEMGMT_VAR_DIR")
    our_party: str = _doc(
        "regulator",
        "The side of its cases the team using this deployment is on, when a case does not "
        "say (case_opened.our_party): regulator (a regulator's or public authority's case "
        "team), subject (a regulated company's compliance team) or requester.",
        "CASEMGMT_OUR_PARTY",
    )
    smtp_url: str = _doc(
        "",
        "SMTP server of the daily email digests: smtp://[user:password@]host[:port] "
        "(?starttls=true to upgrade) or smtps://...; empty: digests are off.",
        "CASEMGMT_SMTP_URL",
    )
    smtp_from: str = _doc(
        "casemgmt@localhost",
        "The From address of the email digests.",
        "CASEMGMT_SMTP_FROM",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default: ``os.environ``); unknown keys are ignored."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            group = _GROUPS.get(f.name)
            if group is None:
                if f.metadata["env"] in env:
                    values[f.name] = _coerce(env[f.metadata["env"]], type(f.default))
                continue
            values[f.name] = group(
                **{
                    g.name: _coerce(env[g.metadata["env"]], type(g.default))
                    for g in fields(group)
                    if g.metadata["env"] in env
                }
            )
        return _resolved(cls(**values), project_root())

    def ensure_var_dir(self) -> Path:
        path = Path(self.var_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path


def project_root() -> Path:
    """Where relative SQLite paths and ``CASEMGMT_VAR_DIR`` resolve: the source checkout
    (the directory of ``pyproject.toml``) when running from one, else the current one."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


def resolve_sqlite_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path made absolute under ``base``; others unchanged."""
    scheme, sep, path = url.partition(":///")
    if not sep or "sqlite" not in scheme or not path or path.startswith(("/", ":memory:")):
        return url
    return f"{scheme}:///{base / path}"


def _resolved(settings: Settings, base: Path) -> Settings:
    """``settings`` with relative SQLite paths and var dir anchored at ``base``, so every
    command finds the same files whatever the current directory."""
    database = replace(
        settings.database,
        url=resolve_sqlite_url(settings.database.url, base),
        read_url=resolve_sqlite_url(settings.database.read_url, base),
    )
    worker = replace(
        settings.worker, broker_url=resolve_sqlite_url(settings.worker.broker_url, base)
    )
    var_dir = str(base / settings.var_dir)  # an absolute var_dir stays as it is
    return replace(settings, database=database, worker=worker, var_dir=var_dir)


def _coerce(raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    return raw


def setting_rows() -> list[tuple[str, str, str]]:
    """Every setting as ``(ENV_VAR, default, description)``, in declaration order."""
    rows: list[tuple[str, str, str]] = []
    for f in fields(Settings):
        group = _GROUPS.get(f.name)
        for g in fields(group) if group else [f]:
            rows.append((g.metadata["env"], repr(g.default), g.metadata["doc"]))
    return rows


_GROUPS: dict[str, Any] = {
    "database": DatabaseSettings,
    "api": ApiSettings,
    "worker": WorkerSettings,
    "reminders": ReminderSettings,
    "log": LogSettings,
}
