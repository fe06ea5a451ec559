"""Deals keep the words their loss category was read from; a dropoff refused because its contact is
already in the flow waits for that enrollment to end

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, Json

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
WAITING = sa.text("waits_for_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("category_evidence", Json, nullable=False, server_default="[]"))
    with op.batch_alter_table("dropoffs") as batch:
        batch.add_column(sa.Column("waits_for_id", Id, sa.ForeignKey(
            "enrollments.id", name="fk_dropoffs_waits_for", ondelete="SET NULL")))
        batch.create_index("ix_dropoffs_waiting", ["waits_for_id"], sqlite_where=WAITING, postgresql_where=WAITING)


def downgrade() -> None:
    with op.batch_alter_table("dropoffs") as batch:
        batch.drop_index("ix_dropoffs_waiting")
        batch.drop_column("waits_for_id")
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("category_evidence")
