"""Deadline read model: the explanation of each due date (rule, steps, one sentence).

Stored at write time from the event that set or moved the deadline (``decide`` computes
the date and its explanation together), so reading the queue computes nothing. Rows of
deadlines recorded before explanations existed keep NULL until ``projections rebuild``.

Revision ID: 0005_deadline_explanation
Revises: 0004_credentials
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_deadline_explanation"
down_revision: str | None = "0004_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON() if op.get_bind().dialect.name == "postgresql" else sa.Text()


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("explanation", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("explanation")
