"""Dropoffs: a contact detected stopping short, and what became of it."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, Numeric, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

STATUSES = ("open", "enrolled", "recovered", "dismissed", "retracted")
INTENTS = ("low", "medium", "high")
ACTIVE = text("status IN ('open', 'enrolled')")
TO_ROUTE = text("status = 'open' AND routed_at IS NULL")
WAITING = text("waits_for_id IS NOT NULL")
RECOVERED = text("recovered_at IS NOT NULL")
CREDITED = text("credited_message_id IS NOT NULL")
# The times metrics take medians of: each is in order in an index of its own, of the dropoffs having it.
MEDIAN_ORDER = ("first_touch_seconds", "recovery_seconds")
# The columns polls filter dropoffs by, each with an index of its own.
FILTERED = ("scenario", "stage", "intent", "rule_key")


class Dropoff(Base):
    """One detected dropoff; at most one active per rule, contact and match value."""

    __tablename__ = "dropoffs"
    __table_args__ = (
        Index("ux_dropoffs_active", "rule_id", "contact_id", "match_value", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        # Polling triggers read the newest first through these: (time, id) is their order.
        Index("ix_dropoffs_account_newest", "account_id", "detected_at", "id"),
        # ... and these when filtered (dropoff.detected's filters): a filter matching nothing finds nothing at once.
        *(Index(f"ix_dropoffs_account_{column}_newest", "account_id", column, "detected_at", "id")
          for column in FILTERED),
        Index("ix_dropoffs_account_recovered", "account_id", "recovered_at", "id", postgresql_where=RECOVERED,
              sqlite_where=RECOVERED),
        # The A/B tests' recovered dropoffs of a period through this one.
        Index("ix_dropoffs_account_recovered_newest", "account_id", "detected_at", "id", postgresql_where=RECOVERED,
              sqlite_where=RECOVERED),
        # A message's credited recoveries (its deletion takes them out of the message rollups) through this one.
        Index("ix_dropoffs_credited_message", "credited_message_id", postgresql_where=CREDITED, sqlite_where=CREDITED),
        Index("ix_dropoffs_contact", "contact_id", "rule_id"),
        # Metrics read a group's median at an offset into these, with what they filter and group by beside it.
        *(Index(f"ix_dropoffs_{column}_order", "account_id", column, "detected_at", "test", "status", "scenario",
                "stage", "rule_key", postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"))
          for column in MEDIAN_ORDER),
        # The clock enrolls ready dropoffs through this index: a tick costs what is ready.
        Index("ix_dropoffs_to_route", "ready_at", postgresql_where=TO_ROUTE, sqlite_where=TO_ROUTE),
        # Dropoffs waiting for their contact's enrollment in the same flow to end.
        Index("ix_dropoffs_waiting", "waits_for_id", postgresql_where=WAITING, sqlite_where=WAITING),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Kept (as rule_key) when the rule is deleted.
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rules.id", ondelete="SET NULL"))
    rule_key: Mapped[str] = mapped_column(String(100))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    match_value: Mapped[str] = mapped_column(String(255), default="")
    scenario: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    intent: Mapped[str] = mapped_column(String(10))
    value_at_risk: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(3))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="open")
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recovery_seconds: Mapped[int | None] = mapped_column()
    revenue: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A false alarm: its goal turned out to have happened by the deadline (it arrived late). Counted nowhere.
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The outside service a known error came from, and when outreach may begin: a maintenance
    # dropoff stays unready while its service is reported under maintenance.
    service: Mapped[str | None] = mapped_column(String(200))
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    segment: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # Where a call to action should lead: the start event's `deep_link` (or `resume_url`).
    deep_link: Mapped[str | None] = mapped_column(String(2048))
    # The tally of its sent messages, kept as they go and are engaged with (reengage.results.tally), so
    # metrics read dropoffs rather than every message: counts, what they cost, seconds from detection
    # to the first one, and whether any was opened or clicked.
    messages_sent: Mapped[int] = mapped_column(Integer, default=0)
    messages_delivered: Mapped[int] = mapped_column(Integer, default=0)
    messages_opened: Mapped[int] = mapped_column(Integer, default=0)
    messages_machine_opened: Mapped[int] = mapped_column(Integer, default=0)
    messages_clicked: Mapped[int] = mapped_column(Integer, default=0)
    message_cost: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=Decimal(0))
    first_touch_seconds: Mapped[float | None] = mapped_column(Float)
    re_engaged: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether it has an enrollment that is not held out: kept by database triggers on `enrollments` (migration
    # 0022), so the dropoff rollups (reengage.models.rollup) count it as enrolled. Nothing else writes it.
    enrolled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The message its recovery is credited to: the last one sent before it, if that went within the
    # account's attribution window; chosen once, when it is recovered.
    credited_message_id: Mapped[int | None] = mapped_column(ForeignKey(
        "messages.id", ondelete="SET NULL", name="fk_dropoffs_credited_message", use_alter=True))
    # When the clock looked for a flow to enroll it in, and what came of it.
    # Raised for a test contact (the console's "try it now"): shown everywhere, counted in no metric.
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    route_note: Mapped[str | None] = mapped_column(String(200))
    # The enrollment in its flow its contact was already in: looked at again once that one ends.
    waits_for_id: Mapped[int | None] = mapped_column(ForeignKey(
        "enrollments.id", ondelete="SET NULL", name="fk_dropoffs_waits_for", use_alter=True))
