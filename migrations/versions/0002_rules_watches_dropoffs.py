"""rules, watches, dropoffs; default rules for existing accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from reengage.platform.db import Id, Json, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")
ACTIVE = sa.text("status IN ('open', 'enrolled')")


def _fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, _fk("accounts"), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scenario", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("account_id", "key"),
    )
    op.create_table(
        "dropoffs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, _fk("accounts"), nullable=False),
        sa.Column("rule_id", Id, _fk("rules", "SET NULL")),
        sa.Column("rule_key", sa.String(100), nullable=False),
        sa.Column("contact_id", Id, _fk("contacts"), nullable=False),
        sa.Column("match_value", sa.String(255), nullable=False),
        sa.Column("scenario", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("intent", sa.String(10), nullable=False),
        sa.Column("value_at_risk", sa.Numeric(18, 4)),
        sa.Column("currency", sa.String(3)),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("recovered_at", UTCDateTime()),
        sa.Column("recovery_seconds", sa.Integer()),
        sa.Column("revenue", sa.Numeric(18, 4)),
        sa.Column("dismissed_at", UTCDateTime()),
        sa.Column("segment", Json, nullable=False),
    )
    op.create_index("ix_dropoffs_account_newest", "dropoffs", ["account_id", "detected_at"])
    op.create_index("ix_dropoffs_contact", "dropoffs", ["contact_id", "rule_id"])
    op.create_index("ux_dropoffs_active", "dropoffs", ["rule_id", "contact_id", "match_value"], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_table(
        "watches",
        sa.Column("id", Id, primary_key=True),
        sa.Column("account_id", Id, _fk("accounts"), nullable=False),
        sa.Column("rule_id", Id, _fk("rules"), nullable=False),
        sa.Column("contact_id", Id, _fk("contacts"), nullable=False),
        sa.Column("match_value", sa.String(255), nullable=False),
        sa.Column("start_event_id", Id, _fk("events"), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("value", sa.Numeric(18, 4)),
        sa.Column("currency", sa.String(3)),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_watches_contact", "watches", ["contact_id", "rule_id"])
    op.create_index("ix_watches_due", "watches", ["deadline"], postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ux_watches_open", "watches", ["rule_id", "contact_id", "match_value"], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)

    # Accounts that exist already get the default rules that new accounts are created with.
    from reengage.detection import catalogue

    session = Session(bind=op.get_bind())
    for account_id in session.scalars(sa.text("SELECT id FROM accounts")):
        catalogue.install(session, account_id)
    session.flush()


def downgrade() -> None:
    op.drop_table("watches")
    op.drop_table("dropoffs")
    op.drop_table("rules")
