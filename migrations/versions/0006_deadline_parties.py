"""Who must act on each deadline and which side the case's team is on.

``deadlines``: ``party`` (regulator / subject / requester / tribunal), ``obligation``
(duty / window), ``ours`` (the party is the case's ``our_party``), ``queue_rank`` (0 our
missed duty, 1 ours, 2 theirs: the queue's first sort key) and ``settled_on`` (the day it
was met, missed, closed or cancelled: days late of a duty met late).
``case_summary``: ``our_party``.

Rows written before this migration get the defaults; ``casemgmt projections rebuild``
refolds them from the events (deadlines recorded before parties existed read as the
subject's duty).

Revision ID: 0006_deadline_parties
Revises: 0005_deadline_explanation
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_deadline_parties"
down_revision: str | None = "0005_deadline_explanation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.add_column(sa.Column("party", sa.Text, nullable=False, server_default="subject"))
        batch.add_column(sa.Column("obligation", sa.Text, nullable=False, server_default="duty"))
        batch.add_column(sa.Column("ours", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("queue_rank", sa.Integer, nullable=False, server_default="2"))
        batch.add_column(sa.Column("settled_on", sa.Date))
    op.create_index(
        "ix_deadlines_status_rank_due",
        "deadlines",
        ["status", "queue_rank", "due_at", "case_id", "deadline_id"],
    )
    with op.batch_alter_table("case_summary") as batch:
        batch.add_column(
            sa.Column("our_party", sa.Text, nullable=False, server_default="regulator")
        )


def downgrade() -> None:
    with op.batch_alter_table("case_summary") as batch:
        batch.drop_column("our_party")
    op.drop_index("ix_deadlines_status_rank_due", table_name="deadlines")
    with op.batch_alter_table("deadlines") as batch:
        for name in ("settled_on", "queue_rank", "ours", "obligation", "party"):
            batch.drop_column(name)
