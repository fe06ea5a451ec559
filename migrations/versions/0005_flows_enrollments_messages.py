"""flows, their routes, enrollments, messages, suppressions; account settings; dropoff routing

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reengage.platform.db import Id, Json, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
ACTIVE = sa.text("status = 'active'")
SCHEDULED = sa.text("status = 'scheduled'")
IN_FLIGHT = sa.text("status IN ('queued', 'sending')")
HOLDOUT_ACTIVE = sa.text("status = 'active' AND holdout")
TO_ROUTE = sa.text("status = 'open' AND routed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("settings", Json, nullable=False, server_default="{}"))
    with op.batch_alter_table("dropoffs") as batch:
        batch.add_column(sa.Column("deep_link", sa.String(2048)))
        batch.add_column(sa.Column("routed_at", UTCDateTime()))
        batch.add_column(sa.Column("route_note", sa.String(200)))
    # Dropoffs raised before flows existed are not enrolled after the fact.
    op.execute("UPDATE dropoffs SET routed_at = detected_at, route_note = 'raised before flows existed'")
    op.create_index("ix_dropoffs_to_route", "dropoffs", ["ready_at"], postgresql_where=TO_ROUTE,
                    sqlite_where=TO_ROUTE)
    op.create_table(
        "flows",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("template", sa.String(100)),
        sa.Column("phases", Json, nullable=False),
        sa.Column("goal_events", Json, nullable=False),
        sa.Column("holdout_percent", sa.Integer(), nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime()),
    )
    op.create_index("ux_flows_key", "flows", ["account_id", "key"], unique=True, postgresql_where=LIVE,
                    sqlite_where=LIVE)
    op.create_table(
        "flow_routes",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("selector", sa.String(250), nullable=False),
        sa.Column("flow_id", Id, sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("account_id", "selector"),
    )
    op.create_index("ix_flow_routes_flow_id", "flow_routes", ["flow_id"])
    op.create_table(
        "enrollments",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("flow_id", Id, sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("dropoff_id", Id, sa.ForeignKey("dropoffs.id", ondelete="SET NULL")),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("exit_reason", sa.String(20)),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("variants", Json, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("ends_at", UTCDateTime()),
    )
    op.create_index("ux_enrollments_active", "enrollments", ["flow_id", "contact_id"], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index("ix_enrollments_contact", "enrollments", ["contact_id", "flow_id", "ended_at"])
    op.create_index("ix_enrollments_account_newest", "enrollments", ["account_id", "id"])
    op.create_index("ix_enrollments_dropoff_id", "enrollments", ["dropoff_id"])
    op.create_index("ix_enrollments_holdout_ends", "enrollments", ["ends_at"], postgresql_where=HOLDOUT_ACTIVE,
                    sqlite_where=HOLDOUT_ACTIVE)
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("enrollment_id", Id, sa.ForeignKey("enrollments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("flow_id", Id, sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(120), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("variant", sa.String(20)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("moved_because", sa.String(200)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("queued_at", UTCDateTime()),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("opened_at", UTCDateTime()),
        sa.Column("clicked_at", UTCDateTime()),
        sa.Column("provider", sa.String(20)),
        sa.Column("provider_id", sa.String(200)),
        sa.Column("content", Json, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("enrollment_id", "step"),
    )
    op.create_index("ix_messages_due", "messages", ["due_at"], postgresql_where=SCHEDULED, sqlite_where=SCHEDULED)
    op.create_index("ix_messages_in_flight", "messages", ["queued_at"], postgresql_where=IN_FLIGHT,
                    sqlite_where=IN_FLIGHT)
    op.create_index("ix_messages_contact_channel", "messages", ["contact_id", "channel", "due_at"])
    op.create_index("ix_messages_account_newest", "messages", ["account_id", "id"])
    op.create_index("ix_messages_enrollment_id", "messages", ["enrollment_id"])
    op.create_table(
        "suppressions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "contact_id", "channel"),
    )


def downgrade() -> None:
    for table in ("suppressions", "messages", "enrollments", "flow_routes", "flows"):
        op.drop_table(table)
    op.drop_index("ix_dropoffs_to_route", "dropoffs")
    with op.batch_alter_table("dropoffs") as batch:
        for column in ("route_note", "routed_at", "deep_link"):
            batch.drop_column(column)
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("settings")
