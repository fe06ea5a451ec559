"""Watches: open expectations that a contact reaches a goal by a deadline."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

OPEN = text("status = 'open'")
ENDED = text("status <> 'open'")


class Watch(Base):
    """Contact X started Y (for match value M) and must reach the rule's goal by `deadline`."""

    __tablename__ = "watches"
    __table_args__ = (
        # The clock finds due watches through this index: a tick costs what is due.
        Index("ix_watches_due", "due_at", postgresql_where=OPEN, sqlite_where=OPEN),
        # At most one open watch per rule, contact and match value.
        Index("ux_watches_open", "rule_id", "contact_id", "match_value", unique=True,
              postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_watches_contact", "contact_id", "rule_id"),
        # A contact's ended watches for a rule (the moments it acted on), apart from its open ones.
        Index("ix_watches_ended", "contact_id", "rule_id", postgresql_where=ENDED, sqlite_where=ENDED),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    match_value: Mapped[str] = mapped_column(String(255), default="")
    start_event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the clock acts on it: the deadline plus the rule's grace for goals that arrive late (`settle`).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="open")
    # What the rule kind knows so far: an error's category, a session's depth, attempts seen.
    category: Mapped[str] = mapped_column(String(40), default="")
    details: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
