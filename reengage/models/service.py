"""Service status: whether an outside service (a payroll provider, an API) is up, per account."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Id, UTCDateTime, utcnow

SERVICE_STATES = ("operational", "maintenance")


class ServiceStatus(Base):
    """The last reported state of one service; maintenance dropoffs wait for `operational`."""

    __tablename__ = "service_statuses"
    __table_args__ = (UniqueConstraint("account_id", "service"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
