"""Clock ticks: the last run of each clock task, shared by every clock process through the database."""

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from reengage.platform.db import Base, Json, UTCDateTime

# The row every tick writes once all its tasks ran: readiness and clock lag read it.
TICK = "tick"


class ClockTick(Base):
    """One task's (or, as `tick`, the whole tick's) last run: when, how much it handed on, how long it took."""

    __tablename__ = "clock_ticks"

    task: Mapped[str] = mapped_column(String(80), primary_key=True)
    ticked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handed_on: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    # The failure of the task's last run ({"type": ...}), None when it succeeded.
    error: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
