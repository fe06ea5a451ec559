"""Retracted dropoffs (a goal that happened in time but arrived late) and watches due after a grace

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("dropoffs") as batch:
        batch.add_column(sa.Column("retracted_at", UTCDateTime()))
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("due_at", UTCDateTime()))
    op.execute("UPDATE watches SET due_at = deadline")
    op.drop_index("ix_watches_due", table_name="watches")
    with op.batch_alter_table("watches") as batch:
        batch.alter_column("due_at", existing_type=UTCDateTime(), nullable=False)
    op.create_index("ix_watches_due", "watches", ["due_at"], postgresql_where=OPEN, sqlite_where=OPEN)
    # A recovery at or before its own dropoff was a goal reached in time that arrived late: a false alarm.
    op.execute("UPDATE enrollments SET exit_reason = 'retracted' WHERE exit_reason = 'converted' AND dropoff_id IN "
               "(SELECT id FROM dropoffs WHERE status = 'recovered' AND recovered_at <= occurred_at)")
    op.execute("UPDATE dropoffs SET status = 'retracted', retracted_at = recovered_at, recovered_at = NULL, "
               "recovery_seconds = NULL, revenue = NULL, credited_message_id = NULL "
               "WHERE status = 'recovered' AND recovered_at <= occurred_at")


def downgrade() -> None:
    op.execute("UPDATE enrollments SET exit_reason = 'converted' WHERE exit_reason = 'retracted'")
    op.execute("UPDATE dropoffs SET status = 'recovered', recovered_at = retracted_at, recovery_seconds = 0 "
               "WHERE status = 'retracted'")
    op.drop_index("ix_watches_due", table_name="watches")
    op.create_index("ix_watches_due", "watches", ["deadline"], postgresql_where=OPEN, sqlite_where=OPEN)
    with op.batch_alter_table("watches") as batch:
        batch.drop_column("due_at")
    with op.batch_alter_table("dropoffs") as batch:
        batch.drop_column("retracted_at")
