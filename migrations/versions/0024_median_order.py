"""Metrics' medians read in order: each group's times indexed in order, its middle read at an offset

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A group of one message dimension is its own value with the others unset: within it the reach's index holds the
# times to first touch in order, with what its counts read beside them.
TOUCH_ORDER = ("account_id", "dimension", "flow_id", "phase", "channel", "variant", "first_touch_us", "engaged",
               "detected_at")
# A dropoff's times, in order per account, with what metrics filter and group the dropoffs by beside them; only
# the dropoffs that have the time (a first touch, a recovery) are in each.
DROPOFF_ORDER = ("detected_at", "test", "status", "scenario", "stage", "rule_key")
TIMES = ("first_touch_seconds", "recovery_seconds")


def upgrade() -> None:
    op.create_index("ix_dropoff_touches_group", "dropoff_touches", list(TOUCH_ORDER))
    op.drop_index("ix_dropoff_touches_account", table_name="dropoff_touches")
    for column in TIMES:
        held = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"ix_dropoffs_{column}_order", "dropoffs", ["account_id", column, *DROPOFF_ORDER],
                        postgresql_where=held, sqlite_where=held)


def downgrade() -> None:
    for column in TIMES:
        op.drop_index(f"ix_dropoffs_{column}_order", table_name="dropoffs")
    op.create_index("ix_dropoff_touches_account", "dropoff_touches", ["account_id", "dimension", "detected_at"])
    op.drop_index("ix_dropoff_touches_group", table_name="dropoff_touches")
