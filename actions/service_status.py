"""Record whether an outside service is up; maintenance dropoffs wait for it to be operational."""

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from actions.action import Action
from reengage.detection import services
from reengage.models import SERVICE_STATES
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
    released = db.retry_on_conflict(lambda: services.record(account_id, data["service"], data["status"], now))
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
