"""Messages: one row per enrollment step, moved through its states exactly once."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow
from reengage.platform.stalls import IN_FLIGHT

STATUSES = ("scheduled", "queued", "sending", "sent", "delivered", "opened", "clicked", "bounced", "dropped",
            "failed", "skipped", "held_out")
# States a message can still leave by being sent; an exit skips these.
PENDING = ("scheduled", "queued")
# States of a message not finished: pending, or in flight (a retry is scheduled again). An enrollment with one
# of these is not done.
UNFINISHED = ("scheduled", "queued", "sending")
# States that count against the frequency cap: it went, or is going.
COUNTED = ("scheduled", "queued", "sending", "sent", "delivered", "opened", "clicked")
PUBLISHED = text("channel = 'webhook' AND sent_at IS NOT NULL")
VARIANT_SENT = text("variant IS NOT NULL AND sent_at IS NOT NULL")
# What the A/B tests read of a sent variant, after the enrollment they find it by.
VARIANT_READ = ("enrollment_id", "sent_at", "variant", "flow_id", "step", "phase")


class Message(Base):
    """One step of one enrollment on one channel; `step` is `<phase>.<step key>`."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "step"),
        # The clock claims due messages through this index: a tick costs what is due.
        Index("ix_messages_due", "due_at", postgresql_where=text("status = 'scheduled'"),
              sqlite_where=text("status = 'scheduled'")),
        # Messages handed to a job that never ran, or cut off while sending, are found through this one.
        Index("ix_messages_in_flight", "queued_at", postgresql_where=IN_FLIGHT, sqlite_where=IN_FLIGHT),
        Index("ix_messages_contact_channel", "contact_id", "channel", "due_at"),
        Index("ix_messages_account_newest", "account_id", "id"),
        # The message.due trigger lists published webhook messages, newest first, through this one.
        Index("ix_messages_account_published", "account_id", "sent_at", "id", postgresql_where=PUBLISHED,
              sqlite_where=PUBLISHED),
        # The A/B tests find a recovered dropoff's sent variants through this one, bounded by the attribution window.
        Index("ix_messages_variant_sent", *VARIANT_READ, postgresql_where=VARIANT_SENT, sqlite_where=VARIANT_SENT),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(120))
    phase: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    variant: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    # Why it was skipped or failed, or what it is waiting for.
    reason: Mapped[str | None] = mapped_column(String(500))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Why due_at is later than planned_at: quiet hours, a holiday, the frequency cap.
    moved_because: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opened by a mail privacy proxy that loads every image (SendGrid's `sg_machine_open`): no sign of a person.
    machine_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What sending it cost: the account's `metrics.costs` for its channel when it went.
    cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    # What was sent, as rendered at send time: to, subject, text, html, cta_url, hint.
    content: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # When the message was noted on the contact's CRM record (HubSpot), so a job run twice notes it once.
    noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
