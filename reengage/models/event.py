"""Events: what contacts did, stored once per sender id."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

# Event types that count as a contact engaging (the contact.engaged trigger lists them).
ENGAGEMENT_TYPES = {"email.opened": "opened", "email.clicked": "clicked", "email.replied": "replied",
                    "sms.replied": "replied"}
# An email opened by a mail privacy proxy that loads every image (Apple Mail Privacy Protection), not by a
# person: kept apart, and never engagement.
MACHINE_OPENED = "email.machine_opened"
# The partial index's predicate, which the trigger's query repeats word for word so the planner can use it.
PENDING = text("processed_at IS NULL")
ENGAGED = text("type IN ({})".format(", ".join(f"'{name}'" for name in ENGAGEMENT_TYPES)))


class Event(Base):
    """One event; `key` is the sender's id, unique per account, so a replay is stored once."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("account_id", "key"),
        Index("ix_events_contact_newest", "account_id", "contact_id", "occurred_at"),
        Index("ix_events_account_newest", "account_id", "occurred_at"),
        # The contact.engaged trigger lists engagement events by arrival through this one.
        Index("ix_events_account_engaged", "account_id", "received_at", "id", postgresql_where=ENGAGED,
              sqlite_where=ENGAGED),
        # Only unprocessed events are indexed, so the clock's sweep costs what is pending.
        Index("ix_events_unprocessed", "received_at", postgresql_where=PENDING, sqlite_where=PENDING),
        # A chunk of processing finds its contacts' earlier pending events through this one (reengage.jobs.events).
        Index("ix_events_pending_contact", "contact_id", "occurred_at", postgresql_where=PENDING,
              sqlite_where=PENDING),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    properties: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str | None] = mapped_column(String(200))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
