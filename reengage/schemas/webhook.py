"""What the SendGrid and HubSpot webhooks answer."""

from marshmallow import Schema, fields


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
