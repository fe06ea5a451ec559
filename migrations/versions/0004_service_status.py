"""service statuses; a dropoff's service and readiness for outreach

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_statuses",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "service"),
    )
    with op.batch_alter_table("dropoffs") as batch:
        batch.add_column(sa.Column("service", sa.String(200)))
        batch.add_column(sa.Column("ready_at", UTCDateTime()))
    # Dropoffs raised before readiness existed were ready when detected.
    op.execute("UPDATE dropoffs SET ready_at = detected_at")


def downgrade() -> None:
    with op.batch_alter_table("dropoffs") as batch:
        batch.drop_column("ready_at")
        batch.drop_column("service")
    op.drop_table("service_statuses")
