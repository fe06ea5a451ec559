"""Events as intake answers them and as the API lists them (as senders post them: reengage.intake.schemas)."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.platform.fields import Int64


class IntakeResultSchema(Schema):
    """What intake did with one event."""

    id = fields.String(metadata={"example": "chk_10293"})
    contact_id = Int64(metadata={"example": 42})
    status = fields.String(
        metadata={"description": "`created` when stored now, `replayed` when the id was seen before.",
                  "enum": ["created", "replayed"], "example": "created"}
    )


class IntakeBatchResultSchema(Schema):
    events = fields.List(fields.Nested(IntakeResultSchema))


class EventSchema(Schema):
    """A stored event; `id` is the sender's id."""

    id = fields.String(attribute="key", metadata={"example": "chk_10293"})
    type = fields.String(metadata={"example": "application_started"})
    contact_id = Int64(metadata={"example": 42})
    occurred_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    properties = fields.Dict(metadata={"example": {"application_id": "app-77", "step": 2}})
    value = fields.Float(allow_none=True, metadata={"example": 249.0})
    currency = fields.String(allow_none=True, metadata={"example": "USD"})
    source = fields.String(allow_none=True, metadata={"example": "checkout-app"})


class EventQuerySchema(Schema):
    """Filters for listing events, newest first."""

    class Meta:
        unknown = RAISE

    contact_id = Int64()
    type = fields.String()
    limit = Int64(load_default=50, validate=validate.Range(1, 100))
