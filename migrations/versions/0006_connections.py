"""connections to SendGrid and HubSpot; contact engagement; CRM notes and workflow callbacks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, Json, UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALLBACK_DUE = sa.text("callback_id IS NOT NULL AND callback_completed_at IS NULL AND status <> 'active'")


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("settings", Json, nullable=False),
        sa.Column("sealed", sa.Text()),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("status_reason", sa.String(500)),
        sa.Column("checked_at", UTCDateTime()),
        sa.Column("cursor", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "provider"),
    )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("engagement", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("engaged_at", UTCDateTime()))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("noted_at", UTCDateTime()))
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("callback_id", sa.String(100)))
        batch.add_column(sa.Column("callback_completed_at", UTCDateTime()))
    op.create_index("ix_enrollments_callback_due", "enrollments", ["ended_at"], postgresql_where=CALLBACK_DUE,
                    sqlite_where=CALLBACK_DUE)
    op.create_index("ix_enrollments_account_ended", "enrollments", ["account_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_enrollments_account_ended", "enrollments")
    op.drop_index("ix_enrollments_callback_due", "enrollments")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("callback_completed_at")
        batch.drop_column("callback_id")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("noted_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("engaged_at")
        batch.drop_column("engagement")
    op.drop_table("connections")
