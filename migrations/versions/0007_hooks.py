"""REST hook subscriptions and deliveries; newest-first indexes for the polling triggers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, Json, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("removed_at IS NULL")
PENDING = sa.text("status = 'pending'")
IN_FLIGHT = sa.text("status IN ('queued', 'sending')")
RECOVERED = sa.text("recovered_at IS NOT NULL")
PUBLISHED = sa.text("channel = 'webhook' AND sent_at IS NOT NULL")
ENGAGED = sa.text("type IN ('email.opened', 'email.clicked', 'email.replied', 'sms.replied')")


def upgrade() -> None:
    op.create_table(
        "hooks",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event", sa.String(100), nullable=False),
        sa.Column("target_url", sa.String(2048), nullable=False),
        sa.Column("filters", Json, nullable=False),
        sa.Column("label", sa.String(100)),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime()),
        sa.Column("removed_reason", sa.String(200)),
    )
    op.create_index("ix_hooks_account_event", "hooks", ["account_id", "event"], postgresql_where=LIVE,
                    sqlite_where=LIVE)
    op.create_table(
        "hook_deliveries",
        sa.Column("id", Id, primary_key=True),
        sa.Column("hook_id", Id, sa.ForeignKey("hooks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("queued_at", UTCDateTime()),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("history", Json, nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("hook_id", "item_id"),
    )
    op.create_index("ix_hook_deliveries_due", "hook_deliveries", ["due_at"], postgresql_where=PENDING,
                    sqlite_where=PENDING)
    op.create_index("ix_hook_deliveries_in_flight", "hook_deliveries", ["queued_at"], postgresql_where=IN_FLIGHT,
                    sqlite_where=IN_FLIGHT)
    op.drop_index("ix_dropoffs_account_newest", "dropoffs")
    op.create_index("ix_dropoffs_account_newest", "dropoffs", ["account_id", "detected_at", "id"])
    op.create_index("ix_dropoffs_account_recovered", "dropoffs", ["account_id", "recovered_at", "id"],
                    postgresql_where=RECOVERED, sqlite_where=RECOVERED)
    op.create_index("ix_messages_account_published", "messages", ["account_id", "sent_at", "id"],
                    postgresql_where=PUBLISHED, sqlite_where=PUBLISHED)
    op.create_index("ix_events_account_engaged", "events", ["account_id", "received_at", "id"],
                    postgresql_where=ENGAGED, sqlite_where=ENGAGED)


def downgrade() -> None:
    op.drop_index("ix_events_account_engaged", "events")
    op.drop_index("ix_messages_account_published", "messages")
    op.drop_index("ix_dropoffs_account_recovered", "dropoffs")
    op.drop_index("ix_dropoffs_account_newest", "dropoffs")
    op.create_index("ix_dropoffs_account_newest", "dropoffs", ["account_id", "detected_at"])
    op.drop_index("ix_hook_deliveries_in_flight", "hook_deliveries")
    op.drop_index("ix_hook_deliveries_due", "hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_index("ix_hooks_account_event", "hooks")
    op.drop_table("hooks")
