"""Trigger items as published: each polling trigger's item, rendered once when its event happened."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, UTCDateTime


class TriggerItem(Base):
    """One item of one trigger as JSON text, exactly as a poll answers it; a poll reads these rather than render."""

    __tablename__ = "trigger_items"
    # Deleting a contact deletes what was published about them.
    __table_args__ = (Index("ix_trigger_items_contact", "contact_id"),)

    trigger: Mapped[str] = mapped_column(String(40), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
