"""Credential changes are announced: ``NOTIFY casemgmt_credentials`` on PostgreSQL.

Every change to ``api_keys`` (a revocation, however it is made: the API, the command
line, or an operator's own ``UPDATE``/``DELETE``/``TRUNCATE``) notifies the channel when
its transaction commits. Each API process listens and drops the keys it keeps in memory
(``adapters.sql.ops.credential_changes``), so a key it has cached stops working in every
process as soon as the notification arrives. SQLite has no notifications: nothing here.

Revision ID: 0013_credential_changes
Revises: 0012_event_notifications
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_credential_changes"
down_revision: str | None = "0012_event_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "casemgmt_credentials"  # adapters.sql.ops.credential_changes.CHANNEL


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE ON api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION credentials_changed()"
    )
    op.execute(
        "CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION credentials_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS api_keys_truncated ON api_keys")
    op.execute("DROP TRIGGER IF EXISTS api_keys_changed ON api_keys")
    op.execute("DROP FUNCTION IF EXISTS credentials_changed()")
