"""Suppressions: contacts who must not be messaged on a channel again."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, UTCDateTime, utcnow

REASONS = ("unsubscribed", "bounced", "spam_report", "manual")


class Suppression(Base):
    """`contact_id` gets nothing more on `channel` in this account."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("account_id", "contact_id", "channel"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
