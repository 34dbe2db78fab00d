"""Event notifications: ``subscriptions.event_types`` and the ``event_deliveries`` queue.

A subscription that lists event types gets a delivery row per matching appended event
(``adapters.sql.notifications``). Existing subscriptions keep NULL: reminders only, as
before. Events appended before this migration are not announced.

Revision ID: 0012_event_notifications
Revises: 0011_event_ids_per_regulator
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_event_notifications"
down_revision: str | None = "0011_event_ids_per_regulator"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON() if op.get_bind().dialect.name == "postgresql" else sa.Text()


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("event_types", _json()))
    op.create_table(
        "event_deliveries",
        sa.Column("notification_id", sa.Text, primary_key=True),
        sa.Column("subscription_id", sa.Text, primary_key=True),
        sa.Column("webhook_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("regulator", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
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
    op.create_index(
        "ix_event_deliveries_status_lease_until", "event_deliveries", ["status", "lease_until"]
    )
    op.create_index(
        "ix_event_deliveries_subscription_case_version",
        "event_deliveries",
        ["subscription_id", "case_id", "version"],
    )


def downgrade() -> None:
    op.drop_table("event_deliveries")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("event_types")
