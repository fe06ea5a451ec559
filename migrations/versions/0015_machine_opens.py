"""Machine opens (mail privacy proxies that load every image, e.g. Apple Mail's) kept apart from opens

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("machine_opened_at", UTCDateTime()))
    with op.batch_alter_table("dropoffs") as batch:
        batch.add_column(sa.Column("messages_machine_opened", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("dropoffs") as batch:
        batch.drop_column("messages_machine_opened")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("machine_opened_at")
