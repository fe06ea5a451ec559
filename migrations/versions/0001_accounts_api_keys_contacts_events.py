"""accounts, api keys, contacts, events

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, Json, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNPROCESSED = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])
    op.create_table(
        "contacts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("external_id", sa.String(255)),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(20)),
        sa.Column("hubspot_id", sa.String(64)),
        sa.Column("first_name", sa.String(200)),
        sa.Column("last_name", sa.String(200)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("country", sa.String(2)),
        sa.Column("properties", Json, nullable=False),
        sa.Column("consent", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("last_event_at", UTCDateTime()),
        sa.UniqueConstraint("account_id", "external_id"),
        sa.UniqueConstraint("account_id", "email"),
        sa.UniqueConstraint("account_id", "phone"),
        sa.UniqueConstraint("account_id", "hubspot_id"),
    )
    op.create_index("ix_contacts_account_newest", "contacts", ["account_id", "id"])
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("properties", Json, nullable=False),
        sa.Column("value", sa.Numeric(18, 4)),
        sa.Column("currency", sa.String(3)),
        sa.Column("source", sa.String(200)),
        sa.Column("processed_at", UTCDateTime()),
        sa.UniqueConstraint("account_id", "key"),
    )
    op.create_index("ix_events_account_newest", "events", ["account_id", "occurred_at"])
    op.create_index("ix_events_contact_newest", "events", ["account_id", "contact_id", "occurred_at"])
    op.create_index(
        "ix_events_unprocessed", "events", ["received_at"], postgresql_where=UNPROCESSED, sqlite_where=UNPROCESSED
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("contacts")
    op.drop_table("api_keys")
    op.drop_table("accounts")
