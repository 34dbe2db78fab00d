"""Read models (case summary, deadline queue), API keys and idempotency keys.

Revision ID: 0002_read_models
Revises: 0001_event_store
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_read_models"
down_revision: str | None = "0001_event_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON() if op.get_bind().dialect.name == "postgresql" else sa.Text()


def upgrade() -> None:
    op.create_table(
        "case_summary",
        sa.Column("case_id", sa.Text, primary_key=True),
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
        sa.Column("last_event_at", _ts(), nullable=False),
        sa.Column("open_deadlines", sa.Integer, nullable=False),
        sa.Column("next_due_on", sa.Date),
        sa.Column("related_parties", _json(), nullable=False),
        sa.Column("search", sa.Text, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("state", _json(), nullable=False),
        sa.Column("state_schema", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.Text, nullable=False),
    )
    op.create_index("ix_case_summary_regulator_seq", "case_summary", ["regulator", "seq"])
    op.create_index("ix_case_summary_status_stage", "case_summary", ["status", "stage"])
    op.create_index("ix_case_summary_position", "case_summary", ["position"])
    op.create_table(
        "deadlines",
        sa.Column("case_id", sa.Text, primary_key=True),
        sa.Column("deadline_id", sa.Text, primary_key=True),
        sa.Column("regulator", sa.Text, nullable=False),
        sa.Column("regime", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("due_at", _ts(), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rule", sa.Text),
        sa.Column("calendar", sa.Text, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_deadlines_status_due", "deadlines", ["status", "due_at", "case_id", "deadline_id"]
    )
    op.create_index(
        "ix_deadlines_regulator_status_due",
        "deadlines",
        ["regulator", "status", "due_at", "case_id", "deadline_id"],
    )
    op.create_table(
        "projection_state",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("rebuilt_at", _ts()),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("regulators", _json()),
        sa.Column("secret_sha256", sa.Text, nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("revoked_at", _ts()),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("idempotency_key", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("event_ids", _json(), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    for table in ("idempotency_keys", "api_keys", "projection_state", "deadlines", "case_summary"):
        op.drop_table(table)
