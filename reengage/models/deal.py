"""Closed-lost deals and their win-back: the deal, its contacts, signals since the loss, outcomes, escalations."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

PRIORITIES = ("high", "medium", "low")
TIMINGS = ("immediate", "medium", "long")
# How far a win-back got: each status is one further down the seed's funnel.
STATUSES = ("lost", "contacted", "replied", "meeting", "opportunity", "won")
# A window opening makes a high or medium priority deal ready (once): the clock finds those through this.
TO_OPEN = text("ready_at IS NULL AND priority IN ('high', 'medium')")
READY = text("ready_at IS NOT NULL")
TO_PUSH = text("push_status = 'pending'")


class Deal(Base):
    """A deal lost, what the analysis made of it, and how its win-back goes."""

    __tablename__ = "deals"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_deals_account_lost", "account_id", "lost_at", "id"),
        Index("ix_deals_account_ready", "account_id", "ready_at", "id", postgresql_where=READY, sqlite_where=READY),
        Index("ix_deals_to_open", "window_start", postgresql_where=TO_OPEN, sqlite_where=TO_OPEN),
        Index("ix_deals_to_push", "ready_at", postgresql_where=TO_PUSH, sqlite_where=TO_PUSH),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    company: Mapped[str | None] = mapped_column(String(255))
    industry: Mapped[str | None] = mapped_column(String(100))
    # The primary contact: the one the draft is written to.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    owner: Mapped[str | None] = mapped_column(String(255))
    owner_id: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    arr: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    lost_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loss_reason: Mapped[str | None] = mapped_column(String(1000))
    competitor: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    stages: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    # Gap tags the caller named; product updates whose tags appear in the reason or notes count too.
    gaps: Mapped[list[str]] = mapped_column(Json, default=list)
    stated_category: Mapped[str | None] = mapped_column(String(40))
    correction: Mapped[dict[str, Any] | None] = mapped_column(Json)
    category: Mapped[str | None] = mapped_column(String(40))
    category_source: Mapped[str] = mapped_column(String(20), default="inferred")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    secondary: Mapped[list[str]] = mapped_column(Json, default=list)
    # The words the category was read from: {category, words, source, weight} each.
    category_evidence: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list, server_default="[]")
    score: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[str] = mapped_column(String(10), default="low")
    score_reasons: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    timing: Mapped[str] = mapped_column(String(10), default="long")
    timing_reason: Mapped[str] = mapped_column(String(300), default="")
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    recommendation: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    draft: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="lost")
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opportunity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    won_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The draft as a HubSpot task for the owner: pending, pushed, skipped (no HubSpot) or failed.
    push_status: Mapped[str | None] = mapped_column(String(10))
    push_note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DealContact(Base):
    """A contact of a deal: their engagement and replies count for it."""

    __tablename__ = "deal_contacts"
    __table_args__ = (Index("ix_deal_contacts_contact", "contact_id"),)

    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)


class DealSignal(Base):
    """Something that happened since the loss and makes another try more likely to land."""

    __tablename__ = "deal_signals"
    __table_args__ = (UniqueConstraint("deal_id", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))
    # Makes recording the same signal twice a no-op: the caller's id, the event's, or the product update's.
    key: Mapped[str] = mapped_column(String(255))
    product_update_id: Mapped[int | None] = mapped_column(ForeignKey("product_updates.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DealOutcome(Base):
    """One step of a win-back: an attempt, a failed attempt, a reply, a meeting, an opportunity, a win."""

    __tablename__ = "deal_outcomes"
    __table_args__ = (UniqueConstraint("deal_id", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Escalation(Base):
    """A deal raised to someone beyond its owner; once per deal and kind."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("deal_id", "kind"),
                      Index("ix_escalations_account_newest", "account_id", "raised_at", "id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(500))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProductUpdate(Base):
    """A product change an account shipped, with the gaps (tags) it closes."""

    __tablename__ = "product_updates"
    __table_args__ = (Index("ix_product_updates_account", "account_id", "released_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(1000))
    gaps: Mapped[list[str]] = mapped_column(Json, default=list)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
