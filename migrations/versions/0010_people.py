"""People: ``users`` (named users with a role and regulator scopes, argon2id password
hashes, hashed one-time invite codes), and dashboard sessions that act for a person.

``dashboard_sessions.key_id`` becomes nullable: a session acts for an API key
(``key_id``) or for a person (``user_id``). Existing sessions are key sessions.

Revision ID: 0010_people
Revises: 0009_case_assignee
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_people"
down_revision: str | None = "0009_case_assignee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON() if op.get_bind().dialect.name == "postgresql" else sa.Text()


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("regulators", _json()),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("password_set_at", _ts()),
        sa.Column("invite_sha256", sa.Text),
        sa.Column("invite_expires_at", _ts()),
        sa.Column("disabled_at", _ts()),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    with op.batch_alter_table("dashboard_sessions") as batch:
        batch.alter_column("key_id", existing_type=sa.Text, nullable=True)
        batch.add_column(sa.Column("user_id", sa.Text))
    op.create_index("ix_dashboard_sessions_user_id", "dashboard_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_sessions_user_id", table_name="dashboard_sessions")
    op.execute("DELETE FROM dashboard_sessions WHERE key_id IS NULL")
    with op.batch_alter_table("dashboard_sessions") as batch:
        batch.drop_column("user_id")
        batch.alter_column("key_id", existing_type=sa.Text, nullable=False)
    op.drop_table("users")
