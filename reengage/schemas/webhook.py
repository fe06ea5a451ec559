"""What the SendGrid and HubSpot webhooks answer."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.schemas.enrollment import EnrollmentSchema
from reengage.schemas.event import IntakeResultSchema
from reengage.schemas.flow import FlowRef


class RejectedSchema(Schema):
    """An item of a batch that could not be read, and why."""

    index = fields.Integer(metadata={"example": 3})
    message = fields.String(metadata={"example": "sg_event_id: missing"})


class SendGridBatchResultSchema(Schema):
    """What became of each event of an Event Webhook batch."""

    received = fields.Integer(metadata={"example": 4})
    stored = fields.Integer(metadata={"description": "New events, applied in the background.", "example": 3})
    replayed = fields.Integer(metadata={"description": "Events stored before (SendGrid retried).", "example": 0})
    ignored = fields.Integer(metadata={
        "description": "processed/deferred events, and events of mail Reengage did not send.", "example": 1})
    rejected = fields.List(fields.Nested(RejectedSchema))


SENDGRID_EXAMPLE = [
    {"email": "dana@example.com", "timestamp": 1763650000, "event": "click", "url": "https://app.example.com/resume/77",
     "sg_event_id": "ZGVsaXZlcmVkLTAtMjQ", "sg_message_id": "fake-000001.filter0001.16648.5515E0B88.0",
     "category": ["sales", "phase-1"], "reengage_message_id": "1042", "reengage_enrollment_id": "311",
     "reengage_account_id": "1"},
]


class HubSpotWebhookQuerySchema(Schema):
    """What to do with the contact a workflow sends: record an event, enroll in a flow, or both."""

    class Meta:
        unknown = RAISE

    type = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "The event to record (also read from the body's `type`).", "example": "demo_no_show"})
    flow = FlowRef(metadata={"description": "Enroll the contact in this flow (also read from the body's `flow`)."})


class HubSpotWebhookResultSchema(Schema):
    """What was done for the contact."""

    event = fields.Nested(IntakeResultSchema, allow_none=True)
    enrollment = fields.Nested(EnrollmentSchema, allow_none=True)
    contact_id = fields.Integer(metadata={"example": 42})


class HubSpotOutputFieldsSchema(Schema):
    """The custom action's output fields, as HubSpot reads them."""

    hs_execution_state = fields.String(metadata={"enum": ["SUCCESS", "FAIL_CONTINUE", "BLOCK"]})
    enrollment_id = fields.String(metadata={"example": "12"})
    enrollment_status = fields.String(metadata={"example": "active"})
    exit_reason = fields.String(metadata={"example": ""})
    recovered = fields.Boolean()
    event_status = fields.String(metadata={"description": "created or replayed, when an event was recorded."})
    error = fields.String(metadata={"description": "Why the action could not act (FAIL_CONTINUE)."})


class HubSpotActionResultSchema(Schema):
    """The answer to a custom workflow action (automation v4)."""

    outputFields = fields.Nested(HubSpotOutputFieldsSchema)


HUBSPOT_ACTION_EXAMPLE = {
    "callbackId": "ap-102-4470-1-0", "origin": {"portalId": 62515, "actionDefinitionId": 1029},
    "context": {"source": "WORKFLOWS", "workflowId": 88102},
    "object": {"objectId": 5101, "objectType": "CONTACT",
               "properties": {"email": "dana@example.com", "firstname": "Dana", "lastname": "Reyes"}},
    "inputFields": {"flow": "sales", "event_type": "", "wait_for_outcome": "true"},
}
