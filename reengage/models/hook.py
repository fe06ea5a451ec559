"""REST hooks: subscriptions to a trigger's items, and each item's delivery to one subscription."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow
from reengage.platform.stalls import IN_FLIGHT

LIVE = text("removed_at IS NULL")
# pending: waiting for its due time; queued: handed to a job; sending: a job is posting it;
# delivered: the target answered 2xx; failed: refused for good or out of attempts; cancelled: the hook was removed.
DELIVERY_STATES = ("pending", "queued", "sending", "delivered", "failed", "cancelled")


class Hook(Base):
    """A subscription: POST every new item of `event` that passes `filters` to `target_url`."""

    __tablename__ = "hooks"
    __table_args__ = (Index("ix_hooks_account_event", "account_id", "event", postgresql_where=LIVE,
                            sqlite_where=LIVE),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(100))
    target_url: Mapped[str] = mapped_column(String(2048))
    filters: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Who asked for it (zapier, make, or a name of the caller's choosing), shown in the list.
    label: Mapped[str | None] = mapped_column(String(100))
    # The signing secret, sealed (reengage.platform.vault): shown once, when the hook is created.
    sealed_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_reason: Mapped[str | None] = mapped_column(String(200))


class HookDelivery(Base):
    """One item for one hook, posted until the target takes it; every attempt is kept in `history`."""

    __tablename__ = "hook_deliveries"
    __table_args__ = (
        UniqueConstraint("hook_id", "item_id"),
        # The clock claims due deliveries through this index: a tick costs what is due.
        Index("ix_hook_deliveries_due", "due_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_hook_deliveries_in_flight", "queued_at", postgresql_where=IN_FLIGHT, sqlite_where=IN_FLIGHT),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    hook_id: Mapped[int] = mapped_column(ForeignKey("hooks.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Each attempt: when, the HTTP status (null when none came back), the error, and how long it took.
    history: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
