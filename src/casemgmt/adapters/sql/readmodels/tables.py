"""Read-model tables: projections of the event log, plus API keys and idempotency keys.

Projection tables (``case_summary``, ``deadlines``) can be dropped and rebuilt from the
log (``casemgmt projections rebuild``). ``case_summary.state`` holds the case's folded
state as of ``version``: the write path loads it instead of refolding the whole stream,
and always checks it against the stream's version first.
"""

from __future__ import annotations

import sqlalchemy as sa

from casemgmt.adapters.sql.eventstore.tables import JsonText, UtcDateTime, metadata

__all__ = [
    "PROJECTION_TABLES",
    "api_keys",
    "case_summary",
    "dashboard_sessions",
    "deadlines",
    "feed_tokens",
    "idempotency_keys",
    "projection_state",
]

case_summary = sa.Table(
    "case_summary",
    metadata,
    sa.Column("case_id", sa.Text, primary_key=True),
    # Position of the case's first event: the stable, unique key of case pagination.
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("regulator", sa.Text, nullable=False),
    sa.Column("regime", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("last_event_at", UtcDateTime, nullable=False),
    sa.Column("open_deadlines", sa.Integer, nullable=False),
    sa.Column("next_due_on", sa.Date),
    sa.Column("our_party", sa.Text, nullable=False, server_default="regulator"),
    # The person the case is assigned to (its latest case_assigned event), NULL if nobody.
    sa.Column("assignee", sa.Text),
    sa.Column("related_parties", JsonText, nullable=False),
    sa.Column("search", sa.Text, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("state", JsonText, nullable=False),
    sa.Column("state_schema", sa.Integer, nullable=False),
    # The hash of event ``version``: the next append chains to it without a read.
    sa.Column("head_hash", sa.Text, nullable=False),
    sa.Index("ix_case_summary_regulator_seq", "regulator", "seq"),
    sa.Index("ix_case_summary_status_stage", "status", "stage"),
    sa.Index("ix_case_summary_position", "position"),
    # "My cases": one person's cases, newest first.
    sa.Index("ix_case_summary_assignee_seq", "assignee", "seq"),
)

deadlines = sa.Table(
    "deadlines",
    metadata,
    sa.Column("case_id", sa.Text, primary_key=True),
    sa.Column("deadline_id", sa.Text, primary_key=True),
    sa.Column("regulator", sa.Text, nullable=False),
    sa.Column("regime", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("rule", sa.Text),
    sa.Column("calendar", sa.Text, nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    # Why the deadline falls on its day (``Explanation`` as JSON), from the event that set
    # or last moved it; NULL for deadlines recorded before explanations existed.
    sa.Column("explanation", JsonText),
    sa.Column("version", sa.Integer, nullable=False),
    # Who must act, duty or window, and whether that is the case's team (our_party).
    sa.Column("party", sa.Text, nullable=False, server_default="subject"),
    sa.Column("obligation", sa.Text, nullable=False, server_default="duty"),
    sa.Column("ours", sa.Boolean, nullable=False, server_default=sa.false()),
    # The queue's first sort key: 0 our missed duty, 1 ours, 2 theirs.
    sa.Column("queue_rank", sa.Integer, nullable=False, server_default="2"),
    # The day it was met, missed, closed or cancelled (days late of a duty met late).
    sa.Column("settled_on", sa.Date),
    sa.Index("ix_deadlines_status_due", "status", "due_at", "case_id", "deadline_id"),
    # The queue's order (most urgent first) with any status filter applied while scanning:
    # the default "unresolved" view is status IN (...), which a status-first index cannot
    # give in this order without sorting every matching row.
    sa.Index("ix_deadlines_rank_due", "queue_rank", "due_at", "case_id", "deadline_id"),
    sa.Index(
        "ix_deadlines_regulator_rank_due",
        "regulator",
        "queue_rank",
        "due_at",
        "case_id",
        "deadline_id",
    ),
    sa.Index(
        "ix_deadlines_regulator_status_due",
        "regulator",
        "status",
        "due_at",
        "case_id",
        "deadline_id",
    ),
)

projection_state = sa.Table(
    "projection_state",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("rebuilt_at", UtcDateTime),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("regulators", JsonText),
    sa.Column("secret_sha256", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Column("created_by", sa.Text),
)

dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("session_id", sa.Text, primary_key=True),
    # A session acts for an API key or for a person (users.user_id): one of the two.
    sa.Column("key_id", sa.Text),
    sa.Column("secret_sha256", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("user_id", sa.Text),
    sa.Index("ix_dashboard_sessions_expires_at", "expires_at"),
    sa.Index("ix_dashboard_sessions_user_id", "user_id"),
)

feed_tokens = sa.Table(
    "feed_tokens",
    metadata,
    sa.Column("token_id", sa.Text, primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("regulators", JsonText),
    sa.Column("secret_sha256", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("idempotency_key", sa.Text, primary_key=True),
    sa.Column("request_hash", sa.Text, nullable=False),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("event_ids", JsonText, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
)

#: The tables a rebuild replaces, by projection name.
PROJECTION_TABLES: dict[str, tuple[sa.Table, ...]] = {"cases": (case_summary, deadlines)}
