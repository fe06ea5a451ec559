"""The A/B tests' recoveries through two indexes: recovered dropoffs by detection, sent variants by enrollment

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06

A variant's recoveries within the attribution window were counted by reading every dropoff of the period to find
the recovered ones, and every message of those to find their sent variants and when each went. Recovered dropoffs
now have an index by detection of their own, and sent variants one by enrollment holding what the tests read,
with the time each went next to the enrollment, so that the window bounds the lookup.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECOVERED = sa.text("recovered_at IS NOT NULL")
VARIANT_SENT = sa.text("variant IS NOT NULL AND sent_at IS NOT NULL")
VARIANT_READ = ["enrollment_id", "sent_at", "variant", "flow_id", "step", "phase"]


def upgrade() -> None:
    op.create_index("ix_dropoffs_account_recovered_newest", "dropoffs", ["account_id", "detected_at", "id"],
                    postgresql_where=RECOVERED, sqlite_where=RECOVERED)
    op.create_index("ix_messages_variant_sent", "messages", VARIANT_READ, postgresql_where=VARIANT_SENT,
                    sqlite_where=VARIANT_SENT)


def downgrade() -> None:
    op.drop_index("ix_messages_variant_sent", table_name="messages")
    op.drop_index("ix_dropoffs_account_recovered_newest", table_name="dropoffs")
