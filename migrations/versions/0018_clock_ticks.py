"""Clock ticks: when each clock task last ran and what it handed on, read by readiness and /metrics

Revision ID: 0018
Revises: 0011
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Json, UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clock_ticks",
        sa.Column("task", sa.String(80), primary_key=True),
        sa.Column("ticked_at", UTCDateTime(), nullable=False),
        sa.Column("handed_on", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("error", Json, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("clock_ticks")
