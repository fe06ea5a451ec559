"""Pending events by contact: processing takes a contact's earlier pending events with its own

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06

A chunk of event processing also claims the pending events of its contacts that happened no later than its newest,
wherever they were queued, so that a contact's events are processed in the order they happened. It finds them
through this index, which holds only the events not yet processed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("processed_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_events_pending_contact", "events", ["contact_id", "occurred_at"], postgresql_where=PENDING,
                    sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_events_pending_contact", table_name="events")
