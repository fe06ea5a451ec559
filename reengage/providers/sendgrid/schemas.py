"""SendGrid's connection as callers set it and as the API shows it, and what its Event Webhook answers."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates
from sendgrid.helpers.eventwebhook import EventWebhook

from reengage.platform.fields import HEADER_TOKEN, Email, Int64
from reengage.schemas.connection import WRITE_ONLY, ConnectionStatusSchema


class SendGridInputSchema(Schema):
    """SendGrid settings; `api_key` is needed the first time, then kept when omitted."""

    class Meta:
        unknown = RAISE

    api_key = fields.String(validate=[validate.Length(10, 200), HEADER_TOKEN], metadata={"description": WRITE_ONLY,
                                                                         "example": "SG.xxxxxxxx.yyyyyyyy"})
    from_email = Email(required=True, validate=validate.Length(max=320), metadata={"example": "hello@acme.com"})
    from_name = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={"example": "Acme"})
    reply_to = Email(allow_none=True, validate=validate.Length(max=320), metadata={"example": "support@acme.com"})
    unsubscribe_group_id = Int64(allow_none=True, validate=validate.Range(1), metadata={
        "description": "SendGrid unsubscribe group (ASM) every message belongs to.", "example": 4321})
    sandbox_mode = fields.Boolean(load_default=False, metadata={
        "description": "SendGrid validates each message without delivering it."})
    data_residency = fields.String(load_default="global", validate=validate.OneOf(("global", "eu")), metadata={
        "description": "`eu` sends through SendGrid's EU region (an EU subuser's key)."})
    event_webhook_public_key = fields.String(allow_none=True, validate=validate.Length(40, 400), metadata={
        "description": "The Event Webhook's verification key (base64, from Mail Settings): signed batches are "
                       "verified and unsigned ones refused."})

    @validates("event_webhook_public_key")
    def _readable_key(self, value: str | None, **_kwargs) -> None:
        if value:
            try:
                EventWebhook(value)
            except (ValueError, TypeError):
                raise ValidationError("Not a public key: paste the Verification Key from SendGrid.") from None


class SendGridConnectionSchema(ConnectionStatusSchema):
    """The account's SendGrid connection, without its key."""

    provider = fields.Constant("sendgrid")
    api_key_set = fields.Boolean(metadata={"example": True})
    from_email = fields.String(metadata={"example": "hello@acme.com"})
    from_name = fields.String(allow_none=True, metadata={"example": "Acme"})
    reply_to = fields.String(allow_none=True)
    unsubscribe_group_id = fields.Integer(allow_none=True)
    sandbox_mode = fields.Boolean()
    data_residency = fields.String(metadata={"example": "global"})
    event_webhook_public_key = fields.String(allow_none=True)
    event_webhook_url = fields.String(metadata={
        "description": "Paste into SendGrid's Event Webhook settings (HTTP POST URL).",
        "example": "https://reengage.example.com/v1/webhooks/sendgrid/3qJ0sZ..."})


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
