"""Connections: an account's credentials and settings for one outside service."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

# unchecked: saved, never tried; ok: the last check or call worked; broken: the service refused the credentials.
STATES = ("unchecked", "ok", "broken")


class Connection(Base):
    """One account's connection to `provider`; credentials only ever sealed (reengage.platform.vault)."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("account_id", "provider"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    # The secret part of the URLs the service calls us at (webhooks); names the account without an API key.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    sealed: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="unchecked")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where an incremental sync with the service stopped (HubSpot deals: the newest modification seen).
    cursor: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
