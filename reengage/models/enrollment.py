"""Enrollments: one contact going through one flow, usually because of one dropoff."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

STATUSES = ("active", "completed", "exited")
EXIT_REASONS = ("converted", "unsubscribed", "bounced", "spam_report", "manual", "dismissed", "flow_deleted",
                "retracted")
ACTIVE = text("status = 'active'")
HOLDOUT_ACTIVE = text("status = 'active' AND holdout")
CALLBACK_DUE = text("callback_id IS NOT NULL AND callback_completed_at IS NULL AND status <> 'active'")


class Enrollment(Base):
    """At most one active enrollment per flow and contact; `holdout` ones get no messages."""

    __tablename__ = "enrollments"
    __table_args__ = (
        Index("ux_enrollments_active", "flow_id", "contact_id", unique=True, postgresql_where=ACTIVE,
              sqlite_where=ACTIVE),
        Index("ix_enrollments_contact", "contact_id", "flow_id", "ended_at"),
        Index("ix_enrollments_account_newest", "account_id", "id"),
        # The clock completes held-out enrollments whose last would-be step has passed through this index.
        Index("ix_enrollments_holdout_ends", "ends_at", postgresql_where=HOLDOUT_ACTIVE, sqlite_where=HOLDOUT_ACTIVE),
        # Ended enrollments whose HubSpot workflow waits for the outcome are found through this index.
        Index("ix_enrollments_callback_due", "ended_at", postgresql_where=CALLBACK_DUE, sqlite_where=CALLBACK_DUE),
        # The CRM sync reads each connected account's newly ended enrollments in order.
        Index("ix_enrollments_account_ended", "account_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    dropoff_id: Mapped[int | None] = mapped_column(ForeignKey("dropoffs.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    exit_reason: Mapped[str | None] = mapped_column(String(20))
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    # The variant each step with variants gives this contact: {"1.reminder": "B"}.
    variants: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    source: Mapped[str] = mapped_column(String(20), default="dropoff")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A held-out enrollment completes when its last would-be step has passed.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A HubSpot workflow that enrolled with "wait for the outcome" holds its record until this callback completes.
    callback_id: Mapped[str | None] = mapped_column(String(100))
    callback_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
