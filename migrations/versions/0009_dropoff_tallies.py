"""Each dropoff's tally of its messages (kept on write, for metrics) and each sent message's cost

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = {"messages_sent": "m.sent_at", "messages_delivered": "m.delivered_at", "messages_opened": "m.opened_at",
          "messages_clicked": "m.clicked_at"}


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("cost", sa.Numeric(18, 6)))
    with op.batch_alter_table("dropoffs") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("message_cost", sa.Numeric(18, 6), nullable=False, server_default="0"))
        batch.add_column(sa.Column("first_touch_seconds", sa.Float))
        batch.add_column(sa.Column("re_engaged", sa.Boolean, nullable=False, server_default=sa.false()))
    # Dropoffs from before: their tallies from their messages, in one pass (costs were not kept: they count as 0).
    postgresql = op.get_bind().dialect.name == "postgresql"
    seconds = ("EXTRACT(EPOCH FROM t.first_sent - dropoffs.detected_at)" if postgresql
               else "(julianday(t.first_sent) - julianday(dropoffs.detected_at)) * 86400")
    counts = ", ".join(f"count({column}) AS {name}" for name, column in COUNTS.items())
    engaged = "bool_or" if postgresql else "max"
    op.execute(
        f"UPDATE dropoffs SET {', '.join(f'{name} = t.{name}' for name in COUNTS)}, "
        f"first_touch_seconds = {seconds}, re_engaged = t.re_engaged "
        f"FROM (SELECT e.dropoff_id, {counts}, min(m.sent_at) AS first_sent, "
        f"{engaged}(m.opened_at IS NOT NULL OR m.clicked_at IS NOT NULL) AS re_engaged "
        "FROM messages m JOIN enrollments e ON e.id = m.enrollment_id "
        "WHERE m.sent_at IS NOT NULL AND e.dropoff_id IS NOT NULL GROUP BY e.dropoff_id) AS t "
        "WHERE dropoffs.id = t.dropoff_id")


def downgrade() -> None:
    with op.batch_alter_table("dropoffs") as batch:
        for name in ("re_engaged", "first_touch_seconds", "message_cost", *reversed(COUNTS)):
            batch.drop_column(name)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("cost")
