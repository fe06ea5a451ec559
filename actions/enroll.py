"""Enroll a contact in a flow now, whatever detected them (a Zap, a HubSpot workflow, a person)."""

from typing import Any

from marshmallow import fields

from actions.action import Action
from reengage.intake import contacts
from reengage.platform import db
from reengage.platform.fields import Int64
from reengage.schemas.contact import ContactRefSchema
from reengage.schemas.enrollment import EnrollmentSchema
from reengage.schemas.flow import FlowRef
from reengage.sequencing import enrollments, flows


class EnrollInput(ContactRefSchema):
    flow = FlowRef(required=True, metadata={"description": "The flow's key or id."})
    dropoff_id = Int64(metadata={"description": "The dropoff this answers (its conversion ends the flow)."})


class EnrollOutput(EnrollmentSchema):
    created = fields.Boolean(metadata={"description": "False when the contact was already in the flow."})
    scheduled = fields.Integer(metadata={"description": "Messages scheduled (0 for the holdout group).",
                                         "example": 6})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Enroll the contact (refused with 409 while the flow cools down for them)."""

    def work() -> dict[str, Any]:
        db_session = db.session()
        flow = flows.find(account_id, data["flow"])
        contact = contacts.find(db_session, account_id, data)
        dropoff = enrollments.dropoff_of(contact, data.get("dropoff_id"))
        enrollment, created = enrollments.enroll(flow, contact, dropoff, db.utcnow(), "action",
                                                 enrollments.account_settings(account_id))
        db_session.flush()
        shown = {name: getattr(enrollment, name) for name in EnrollmentSchema().fields}
        return {**shown, "created": created, "scheduled": enrollments.pending(enrollment.id)}

    return db.retry_on_conflict(work)


ACTION = Action(
    key="enroll",
    noun="Enrollment",
    label="Enroll Contact in Flow",
    description="Start a flow for a contact: every step is scheduled in their time zone and send window. "
                "Enrolling someone already in the flow answers their current enrollment.",
    input=EnrollInput,
    output=EnrollOutput,
    sample={"id": 12, "flow_id": 3, "contact_id": 42, "dropoff_id": 7, "status": "active", "exit_reason": None,
            "holdout": False, "variants": {"1.pick-up": "B"}, "source": "action",
            "started_at": "2026-11-20T15:00:00+00:00", "ended_at": None, "created": True, "scheduled": 6},
    perform=perform,
)
