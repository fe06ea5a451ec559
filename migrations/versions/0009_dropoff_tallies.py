"""Each dropoff's tally of its messages (kept on write, for metrics), the message its recovery is credited to,
and each sent message's cost

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform import durations
from reengage.platform.db import Id, Json, UTCDateTime

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
        batch.add_column(sa.Column("credited_message_id", Id,
                                   sa.ForeignKey("messages.id", name="fk_dropoffs_credited_message",
                                                 ondelete="SET NULL")))
    # Dropoffs from before: their counts from their messages, in one pass (costs were not kept: they count as 0).
    engaged = "bool_or" if op.get_bind().dialect.name == "postgresql" else "max"
    counts = ", ".join(f"count({column}) AS {name}" for name, column in COUNTS.items())
    op.execute(
        f"UPDATE dropoffs SET {', '.join(f'{name} = t.{name}' for name in COUNTS)}, re_engaged = t.re_engaged "
        f"FROM (SELECT e.dropoff_id, {counts}, "
        f"{engaged}(m.opened_at IS NOT NULL OR m.clicked_at IS NOT NULL) AS re_engaged "
        "FROM messages m JOIN enrollments e ON e.id = m.enrollment_id "
        "WHERE m.sent_at IS NOT NULL AND e.dropoff_id IS NOT NULL GROUP BY e.dropoff_id) AS t "
        "WHERE dropoffs.id = t.dropoff_id")
    _first_touches()
    _credit_recoveries()


def _first_touches() -> None:
    """Seconds from detection to the first message, worked out here: SQLite's date arithmetic is not exact."""
    bind = op.get_bind()
    first = sa.text(
        "SELECT d.id, d.detected_at, min(m.sent_at) AS sent_at FROM dropoffs d "
        "JOIN enrollments e ON e.dropoff_id = d.id JOIN messages m ON m.enrollment_id = e.id "
        "WHERE m.sent_at IS NOT NULL GROUP BY d.id, d.detected_at"
    ).columns(detected_at=UTCDateTime(), sent_at=UTCDateTime())
    updates = [{"dropoff": row.id, "seconds": (row.sent_at - row.detected_at).total_seconds()}
               for row in bind.execute(first)]
    if updates:
        bind.execute(sa.text("UPDATE dropoffs SET first_touch_seconds = :seconds WHERE id = :dropoff"), updates)


def _credit_recoveries() -> None:
    """Credit each recovery from before to its last message sent before it, within its account's window."""
    bind = op.get_bind()
    accounts = sa.text("SELECT id, settings FROM accounts").columns(settings=Json)
    windows = {account_id: durations.parse(((settings or {}).get("metrics") or {}).get("attribution_window") or "P7D")
               for account_id, settings in bind.execute(accounts)}
    last = sa.text(
        "SELECT d.id, d.account_id, d.recovered_at, m.id AS message_id, m.sent_at FROM dropoffs d "
        "JOIN enrollments e ON e.dropoff_id = d.id JOIN messages m ON m.enrollment_id = e.id "
        "WHERE d.recovered_at IS NOT NULL AND m.sent_at IS NOT NULL AND m.sent_at <= d.recovered_at"
    ).columns(recovered_at=UTCDateTime(), sent_at=UTCDateTime())
    credited: dict[int, tuple] = {}
    for row in bind.execute(last):
        known = credited.get(row.id)
        if known is None or (row.sent_at, row.message_id) > known[:2]:
            credited[row.id] = (row.sent_at, row.message_id, row.recovered_at - row.sent_at <= windows[row.account_id])
    updates = [{"dropoff": dropoff, "message": message} for dropoff, (_, message, inside) in credited.items() if inside]
    if updates:
        bind.execute(sa.text("UPDATE dropoffs SET credited_message_id = :message WHERE id = :dropoff"), updates)


def downgrade() -> None:
    with op.batch_alter_table("dropoffs") as batch:
        for name in ("credited_message_id", "re_engaged", "first_touch_seconds", "message_cost", *reversed(COUNTS)):
            batch.drop_column(name)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("cost")
