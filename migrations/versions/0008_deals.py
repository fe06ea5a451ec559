"""Closed-lost deals, their contacts, signals, outcomes and escalations; product updates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, Json, UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READY = sa.text("ready_at IS NOT NULL")
TO_OPEN = sa.text("ready_at IS NULL AND priority IN ('high', 'medium')")
TO_PUSH = sa.text("push_status = 'pending'")


def _account() -> sa.Column:
    return sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)


def _deal() -> sa.Column:
    return sa.Column("deal_id", Id, sa.ForeignKey("deals.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "product_updates",
        sa.Column("id", Id, primary_key=True),
        _account(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(1000)),
        sa.Column("gaps", Json, nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=False),
        sa.Column("url", sa.String(2048)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_product_updates_account", "product_updates", ["account_id", "released_at"])
    op.create_table(
        "deals",
        sa.Column("id", Id, primary_key=True),
        _account(),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("company", sa.String(255)),
        sa.Column("industry", sa.String(100)),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="SET NULL")),
        sa.Column("owner", sa.String(255)),
        sa.Column("owner_id", sa.String(100)),
        sa.Column("amount", sa.Numeric(18, 4)),
        sa.Column("arr", sa.Numeric(18, 4)),
        sa.Column("currency", sa.String(3)),
        sa.Column("lost_at", UTCDateTime(), nullable=False),
        sa.Column("loss_reason", sa.String(1000)),
        sa.Column("competitor", sa.String(200)),
        sa.Column("notes", sa.Text()),
        sa.Column("stages", Json, nullable=False),
        sa.Column("gaps", Json, nullable=False),
        sa.Column("stated_category", sa.String(40)),
        sa.Column("correction", Json),
        sa.Column("category", sa.String(40)),
        sa.Column("category_source", sa.String(20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("secondary", Json, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("score_reasons", Json, nullable=False),
        sa.Column("timing", sa.String(10), nullable=False),
        sa.Column("timing_reason", sa.String(300), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("recommendation", Json, nullable=False),
        sa.Column("draft", Json, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("contacted_at", UTCDateTime()),
        sa.Column("replied_at", UTCDateTime()),
        sa.Column("meeting_at", UTCDateTime()),
        sa.Column("opportunity_at", UTCDateTime()),
        sa.Column("won_at", UTCDateTime()),
        sa.Column("ready_at", UTCDateTime()),
        sa.Column("push_status", sa.String(10)),
        sa.Column("push_note", sa.String(300)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "external_id"),
    )
    op.create_index("ix_deals_account_lost", "deals", ["account_id", "lost_at", "id"])
    op.create_index("ix_deals_account_ready", "deals", ["account_id", "ready_at", "id"], postgresql_where=READY,
                    sqlite_where=READY)
    op.create_index("ix_deals_to_open", "deals", ["window_start"], postgresql_where=TO_OPEN, sqlite_where=TO_OPEN)
    op.create_index("ix_deals_to_push", "deals", ["ready_at"], postgresql_where=TO_PUSH, sqlite_where=TO_PUSH)
    op.create_table(
        "deal_contacts",
        sa.Column("deal_id", Id, sa.ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_deal_contacts_contact", "deal_contacts", ["contact_id"])
    op.create_table(
        "deal_signals",
        sa.Column("id", Id, primary_key=True),
        _account(),
        _deal(),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("product_update_id", Id, sa.ForeignKey("product_updates.id", ondelete="CASCADE")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("deal_id", "key"),
    )
    op.create_table(
        "deal_outcomes",
        sa.Column("id", Id, primary_key=True),
        _account(),
        _deal(),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("note", sa.String(500)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("deal_id", "key"),
    )
    op.create_table(
        "escalations",
        sa.Column("id", Id, primary_key=True),
        _account(),
        _deal(),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("deal_id", "kind"),
    )
    op.create_index("ix_escalations_account_newest", "escalations", ["account_id", "raised_at", "id"])


def downgrade() -> None:
    for table in ("escalations", "deal_outcomes", "deal_signals", "deal_contacts", "deals", "product_updates"):
        op.drop_table(table)
