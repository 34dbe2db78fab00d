"""Who a case is assigned to: ``case_summary.assignee`` and an index for "my cases".

``assignee`` is the person named by the case's latest ``case_assigned`` event (NULL
until the case is assigned). No case could be assigned before this migration, so the
existing rows are right as they are (NULL); ``casemgmt projections rebuild`` writes the
same column from the events.

Revision ID: 0009_case_assignee
Revises: 0008_queue_order_indexes
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_case_assignee"
down_revision: str | None = "0008_queue_order_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_summary") as batch:
        batch.add_column(sa.Column("assignee", sa.Text))
    op.create_index("ix_case_summary_assignee_seq", "case_summary", ["assignee", "seq"])


def downgrade() -> None:
    op.drop_index("ix_case_summary_assignee_seq", table_name="case_summary")
    with op.batch_alter_table("case_summary") as batch:
        batch.drop_column("assignee")
