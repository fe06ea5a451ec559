"""Take a contact out of a flow (or all flows) now: pending messages are skipped."""

from typing import Any

from marshmallow import Schema, fields, validate

from actions.action import Action
from reengage.intake import contacts
from reengage.models import CONSENT_CHANNELS
from reengage.platform import db
from reengage.schemas.contact import ContactRefSchema
from reengage.schemas.flow import FlowRef
from reengage.sequencing import enrollments, flows


class ExitInput(ContactRefSchema):
    flow = FlowRef(metadata={"description": "The flow's key or id; every flow when left out."})
    reason = fields.String(load_default="manual", validate=validate.OneOf(
        ("manual", "converted", "unsubscribed", "bounced", "spam_report")), metadata={"example": "manual"})
    channel = fields.String(load_default="email", validate=validate.OneOf(CONSENT_CHANNELS), metadata={
        "description": "The channel to suppress, for unsubscribed, bounced and spam_report."})


class ExitOutput(Schema):
    contact_id = fields.Integer(metadata={"example": 42})
    exited = fields.List(fields.Integer(), metadata={"description": "Ids of the enrollments that ended.",
                                                     "example": [12]})
    suppressed = fields.Boolean(metadata={"description": "Whether the contact was added to a suppression list."})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Exit the contact's active enrollments (in the one flow asked for) and suppress them when the reason says so."""
    at = db.utcnow()
    with db.transaction() as db_session:
        contact = contacts.find(db_session, account_id, data)
        flow_ids = [flows.find(account_id, data["flow"]).id] if "flow" in data else None
        suppressed = False
        if data["reason"] in enrollments.SUPPRESSING:
            # Suppression ends every flow of the contact, not only the one named.
            ids = enrollments.active_ids(account_id, [contact.id])
            suppressed = enrollments.suppress(account_id, contact.id, data["channel"], data["reason"], at)
        else:
            ids = enrollments.active_ids(account_id, [contact.id], flow_ids)
            enrollments.end(ids, data["reason"], at)
    return {"contact_id": contact.id, "exited": ids, "suppressed": suppressed}


ACTION = Action(
    key="exit",
    noun="Exit",
    label="Exit Contact from Flow",
    description="End a contact's active enrollment in one flow, or in every flow: nothing more is sent. With "
                "reason unsubscribed, bounced or spam_report the contact is also suppressed on `channel`.",
    input=ExitInput,
    output=ExitOutput,
    sample={"contact_id": 42, "exited": [12], "suppressed": False},
    perform=perform,
)
