"""Trigger items kept as published, and indexes for each filter of New Dropoff: polls cost the same at any size

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, UTCDateTime

revision: str = "0021"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERED = ("scenario", "stage", "intent", "rule_key")


def upgrade() -> None:
    op.create_table(
        "trigger_items",
        sa.Column("trigger", sa.String(40), primary_key=True),
        sa.Column("item_id", sa.BigInteger(), primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_trigger_items_contact", "trigger_items", ["contact_id"])
    for column in FILTERED:
        op.create_index(f"ix_dropoffs_account_{column}_newest", "dropoffs", ["account_id", column, "detected_at", "id"])
    # Items made before this revision are not rendered here (that would need the code of the day, which later
    # revisions outgrow): a poll renders an item it finds no text for as it is then, as polls did until now.


def downgrade() -> None:
    for column in FILTERED:
        op.drop_index(f"ix_dropoffs_account_{column}_newest", "dropoffs")
    op.drop_index("ix_trigger_items_contact", "trigger_items")
    op.drop_table("trigger_items")
