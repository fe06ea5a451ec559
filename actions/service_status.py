"""Record whether an outside service is up; maintenance dropoffs wait for it to be operational."""

from typing import Any, cast

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import CursorResult, select, update

from actions.action import Action
from reengage.models import SERVICE_STATES, Dropoff, ServiceStatus
from reengage.platform import db


class ServiceStatusInput(Schema):
    class Meta:
        unknown = RAISE

    service = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "Acme Payroll"})
    status = fields.String(required=True, validate=validate.OneOf(SERVICE_STATES), metadata={"example": "operational"})


class ServiceStatusOutput(Schema):
    service = fields.String(metadata={"example": "Acme Payroll"})
    status = fields.String(metadata={"example": "operational"})
    updated_at = fields.AwareDateTime()
    released = fields.Integer(metadata={"description": "Dropoffs that became ready for outreach now.",
                                        "example": 12})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Store the service's state; release its waiting maintenance dropoffs when it is operational."""
    now = db.utcnow()

    def work() -> int:
        db_session = db.session()
        status = db_session.scalar(select(ServiceStatus).where(ServiceStatus.account_id == account_id,
                                                               ServiceStatus.service == data["service"]))
        if status is None:
            db_session.add(ServiceStatus(account_id=account_id, service=data["service"], status=data["status"],
                                         updated_at=now))
        else:
            status.status, status.updated_at = data["status"], now
        if data["status"] != "operational":
            return 0
        # An UPDATE answers a CursorResult, which counts the rows it changed.
        released = cast(CursorResult[Any], db_session.execute(
            update(Dropoff)
            .where(Dropoff.account_id == account_id, Dropoff.service == data["service"],
                   Dropoff.ready_at.is_(None), Dropoff.status.in_(("open", "enrolled")))
            .values(ready_at=now)
            .execution_options(synchronize_session=False)
        ))
        return released.rowcount

    released = db.retry_on_conflict(work)
    return {**data, "updated_at": now, "released": released}


ACTION = Action(
    key="service-status",
    noun="Service status",
    label="Record Service Status",
    description="Report a service (a payroll provider, an API) operational or under maintenance. Dropoffs caused "
                "by its maintenance become ready for outreach when it is operational again.",
    input=ServiceStatusInput,
    output=ServiceStatusOutput,
    sample={"service": "Acme Payroll", "status": "operational", "updated_at": "2026-11-20T15:04:05+00:00",
            "released": 12},
    perform=perform,
)
