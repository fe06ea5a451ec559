"""Contacts' ids in outside services in their own table (one row per provider), instead of contacts.hubspot_id

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_identities",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("account_id", "provider", "external_id"),
    )
    op.create_index("ix_contact_identities_contact_id", "contact_identities", ["contact_id"])
    op.execute("INSERT INTO contact_identities (account_id, contact_id, provider, external_id) "
               "SELECT account_id, id, 'hubspot', hubspot_id FROM contacts WHERE hubspot_id IS NOT NULL")
    with op.batch_alter_table("contacts") as batch:
        # The unique constraint over (account_id, hubspot_id) goes with the column.
        batch.drop_column("hubspot_id")


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("hubspot_id", sa.String(64)))
        batch.create_unique_constraint("contacts_account_id_hubspot_id_key", ["account_id", "hubspot_id"])
    op.execute("UPDATE contacts SET hubspot_id = (SELECT i.external_id FROM contact_identities i "
               "WHERE i.contact_id = contacts.id AND i.provider = 'hubspot')")
    op.drop_index("ix_contact_identities_contact_id", table_name="contact_identities")
    op.drop_table("contact_identities")
