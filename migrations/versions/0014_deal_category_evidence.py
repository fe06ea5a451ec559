"""Deals keep the words their loss category was read from

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Json

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("category_evidence", Json, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("category_evidence")
