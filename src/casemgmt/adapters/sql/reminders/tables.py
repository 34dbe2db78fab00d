"""Tables of the reminder pipeline (migration ``0003_reminders``).

- ``reminders``: the reminder schedule, an inline projection of deadline events
  (rebuildable: ``casemgmt projections rebuild reminders``). One row per deadline, due
  date and reminder offset, with the UTC instant it goes out and what the deadline's
  events say about it (``pending``, ``suspended``, ``cancelled``, ``superseded``,
  ``skipped``).
- ``reminder_fanout``: worker state. A row means the reminder was claimed and its
  deliveries (one per matching subscription) were created, in the same transaction.
- ``deliveries``: worker state, one per (reminder, subscription): the claim (``claim_token``,
  ``lease_until``), the attempt count and the outcome (``pending``, ``delivered``, ``dead``,
  ``cancelled``). The events ``reminder_sent`` / ``reminder_failed`` are the record; this
  table is the work queue and the dead-letter list.
- ``delivery_attempts``: the delivery log, one row per HTTP attempt.
- ``subscriptions``: webhook subscribers (secret kept to sign with; soft-deleted).
"""

from __future__ import annotations

import sqlalchemy as sa

from casemgmt.adapters.sql.eventstore.tables import JsonText, UtcDateTime, metadata

__all__ = [
    "REMINDER_TABLES",
    "deliveries",
    "delivery_attempts",
    "reminder_fanout",
    "reminders",
    "subscriptions",
]

reminders = sa.Table(
    "reminders",
    metadata,
    sa.Column("reminder_id", sa.Text, primary_key=True),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("deadline_id", sa.Text, nullable=False),
    sa.Column("regulator", sa.Text, nullable=False),
    sa.Column("regime", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("offset_code", sa.Text, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("send_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_reminders_status_send_at", "status", "send_at"),
    sa.Index("ix_reminders_case_id_deadline_id", "case_id", "deadline_id"),
)

reminder_fanout = sa.Table(
    "reminder_fanout",
    metadata,
    sa.Column("reminder_id", sa.Text, primary_key=True),
    sa.Column("claimed_at", UtcDateTime, nullable=False),
    sa.Column("subscriptions", sa.Integer, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("reminder_id", sa.Text, primary_key=True),
    sa.Column("subscription_id", sa.Text, primary_key=True),
    sa.Column("webhook_id", sa.Text, nullable=False),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("deadline_id", sa.Text, nullable=False),
    sa.Column("regulator", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("claim_token", sa.Text),
    sa.Column("lease_until", UtcDateTime),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("delivered_at", UtcDateTime),
    sa.Index("ix_deliveries_status_lease_until", "status", "lease_until"),
    sa.Index("ix_deliveries_subscription_id_created_at", "subscription_id", "created_at"),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("attempt_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("reminder_id", sa.Text, nullable=False),
    sa.Column("subscription_id", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Index("ix_delivery_attempts_reminder_id_subscription_id", "reminder_id", "subscription_id"),
    sqlite_autoincrement=True,
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("subscription_id", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("regulators", JsonText),
    sa.Column("kinds", JsonText),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("deleted_at", UtcDateTime),
    sa.Column("event_types", JsonText),  # migration 0012_event_notifications
)

#: The tables a rebuild of the ``reminders`` projection replaces.
REMINDER_TABLES: tuple[sa.Table, ...] = (reminders,)
