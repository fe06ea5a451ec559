"""A signed-in dashboard session, kept on the server so that signing out ends it."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, UTCDateTime, utcnow


class DashboardSession(Base):
    """A session the cookie names by a random id (only its hash is kept), opened with API key `api_key_id`."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
