"""Outside services' states: recording one, and the maintenance dropoffs that wait for it."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from reengage.models import Dropoff, ServiceStatus
from reengage.platform import db

WAITING_STATUSES = ("open", "enrolled")


def record(account_id: int, service: str, status: str, now: datetime) -> int:
    """Store the service's state; when it is operational, make its waiting maintenance dropoffs ready (how many)."""
    db_session = db.session()
    stored = db_session.scalar(select(ServiceStatus).where(ServiceStatus.account_id == account_id,
                                                           ServiceStatus.service == service))
    if stored is None:
        db_session.add(ServiceStatus(account_id=account_id, service=service, status=status, updated_at=now))
    else:
        stored.status, stored.updated_at = status, now
    if status != "operational":
        return 0
    # An UPDATE answers a CursorResult, which counts the rows it changed.
    released = cast(CursorResult[Any], db_session.execute(
        update(Dropoff)
        .where(Dropoff.account_id == account_id, Dropoff.service == service, Dropoff.ready_at.is_(None),
               Dropoff.waits_for_id.is_(None), Dropoff.status.in_(WAITING_STATUSES))
        .values(ready_at=now)
        .execution_options(synchronize_session=False)
    ))
    return released.rowcount


def waiting(account_id: int) -> list[str]:
    """The services whose maintenance dropoffs of this account wait for them."""
    return list(db.session().scalars(select(Dropoff.service).where(
        Dropoff.account_id == account_id, Dropoff.category == "maintenance", Dropoff.ready_at.is_(None),
        Dropoff.waits_for_id.is_(None), Dropoff.service.is_not(None), Dropoff.status.in_(WAITING_STATUSES))
        .distinct().order_by(Dropoff.service)))
