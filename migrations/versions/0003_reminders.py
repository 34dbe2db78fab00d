"""Reminders: the schedule projection, fan-out, deliveries and their log, subscriptions.

Revision ID: 0003_reminders
Revises: 0002_read_models
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_reminders"
down_revision: str | None = "0002_read_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON() if op.get_bind().dialect.name == "postgresql" else sa.Text()


def _bigint_pk() -> sa.types.TypeEngine[int]:
    return sa.BigInteger() if op.get_bind().dialect.name == "postgresql" else sa.Integer()


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("reminder_id", sa.Text, primary_key=True),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("deadline_id", sa.Text, nullable=False),
        sa.Column("regulator", sa.Text, nullable=False),
        sa.Column("regime", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("offset_code", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("send_at", _ts(), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_reminders_status_send_at", "reminders", ["status", "send_at"])
    op.create_index("ix_reminders_case_id_deadline_id", "reminders", ["case_id", "deadline_id"])
    op.create_table(
        "reminder_fanout",
        sa.Column("reminder_id", sa.Text, primary_key=True),
        sa.Column("claimed_at", _ts(), nullable=False),
        sa.Column("subscriptions", sa.Integer, nullable=False),
    )
    op.create_table(
        "deliveries",
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
        sa.Column("lease_until", _ts()),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("delivered_at", _ts()),
    )
    op.create_index("ix_deliveries_status_lease_until", "deliveries", ["status", "lease_until"])
    op.create_index(
        "ix_deliveries_subscription_id_created_at", "deliveries", ["subscription_id", "created_at"]
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("attempt_id", _bigint_pk(), primary_key=True, autoincrement=True),
        sa.Column("reminder_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_delivery_attempts_reminder_id_subscription_id",
        "delivery_attempts",
        ["reminder_id", "subscription_id"],
    )
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("regulators", _json()),
        sa.Column("kinds", _json()),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("deleted_at", _ts()),
    )


def downgrade() -> None:
    for table in (
        "subscriptions",
        "delivery_attempts",
        "deliveries",
        "reminder_fanout",
        "reminders",
    ):
        op.drop_table(table)
