"""Ended watches by contact: what processing reads to tell a late event, apart from the open watches

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07

Processing a chunk of events reads the ended watches of its contacts (for the rules its events reach) to tell
whether an event comes after the rule already acted. Through the contact's index of every watch it walked the open
ones too, so a contact with many open watches made each of its events cost more; this index holds ended ones only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENDED = sa.text("status <> 'open'")


def upgrade() -> None:
    op.create_index("ix_watches_ended", "watches", ["contact_id", "rule_id"], postgresql_where=ENDED,
                    sqlite_where=ENDED)


def downgrade() -> None:
    op.drop_index("ix_watches_ended", table_name="watches")
