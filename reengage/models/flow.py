"""Flows: an account's own five-phase sequences, and which dropoffs enroll in which flow."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, Json, UTCDateTime, utcnow

LIVE = text("deleted_at IS NULL")


class Flow(Base):
    """One sequence of one account, cloned from a template or imported; deleted flows keep their history."""

    __tablename__ = "flows"
    __table_args__ = (
        Index("ux_flows_key", "account_id", "key", unique=True, postgresql_where=LIVE, sqlite_where=LIVE),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    template: Mapped[str | None] = mapped_column(String(100))
    phases: Mapped[list[dict[str, Any]]] = mapped_column(Json)
    goal_events: Mapped[list[str]] = mapped_column(Json, default=list)
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FlowRoute(Base):
    """`selector` (rule:KEY, scenario:KEY, scenario:KEY/CATEGORY or family:NAME) enrolls into `flow_id`."""

    __tablename__ = "flow_routes"
    __table_args__ = (UniqueConstraint("account_id", "selector"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    selector: Mapped[str] = mapped_column(String(250))
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
