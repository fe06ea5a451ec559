"""Record an event for a contact: what Zapier, Make or a HubSpot workflow saw them do."""

from typing import Any
from uuid import uuid4

from marshmallow import fields, validate

from actions.action import Action
from reengage.intake import ingest
from reengage.intake.schemas import EventInputSchema
from reengage.schemas.event import IntakeResultSchema


class RecordEventInput(EventInputSchema):
    id = fields.String(validate=validate.Length(1, 255), metadata={
        "description": "Your id for the event: the same id again is stored once (e.g. the Zap's run id). "
                       "Without it, every call is a new event.", "example": "zap-8812-77"})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Store the event (once per id) and hand it to processing."""
    event = {**data, "id": data.get("id") or f"action-{uuid4().hex}"}
    with ingest.arrival() as token:
        return ingest.ingest(account_id, [event], "", token)[0]


ACTION = Action(
    key="record-event",
    noun="Event",
    label="Record Event",
    description="Record something a contact did (started an application, booked a call, replied). Rules detect "
                "dropoffs from events and flows end on their goal events. Give `id` to make retries safe.",
    input=RecordEventInput,
    output=IntakeResultSchema,
    sample={"id": "zap-8812-77", "contact_id": 42, "status": "created"},
    perform=perform,
)
