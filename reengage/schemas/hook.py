"""REST hook subscriptions and deliveries as the API shows them (as callers send them: reengage.web.subscriptions)."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.models.hook import DELIVERY_STATES
from reengage.platform.fields import Int64


class HookSchema(Schema):
    """A live subscription."""

    id = Int64(metadata={"example": 5})
    event = fields.String(metadata={"example": "dropoff.detected"})
    target_url = fields.String(metadata={"example": "https://hooks.zapier.com/hooks/standard/123/abc/"})
    filters = fields.Dict(metadata={"example": {"scenario": "sales.application_abandoned"}})
    label = fields.String(allow_none=True, metadata={"example": "zapier"})
    created_at = fields.AwareDateTime()


class HookCreatedSchema(HookSchema):
    """A new subscription, with the secret its deliveries are signed with (shown this once)."""

    secret = fields.String(metadata={
        "description": "`whsec_` and a base64 key: verify each delivery with a Standard Webhooks library and it "
                       "(see the `delivery` callback).",
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class AttemptSchema(Schema):
    at = fields.String()
    status = Int64(allow_none=True, metadata={"description": "The target's HTTP status (null: none)."})
    error = fields.String(allow_none=True)
    ms = fields.Float(metadata={"description": "How long the attempt took."})


class HookDeliverySchema(Schema):
    """One item posted (or to be posted) to the hook, with every attempt."""

    id = Int64(metadata={"example": 91})
    item_id = fields.String(metadata={"example": "7"})
    status = fields.String(metadata={"enum": list(DELIVERY_STATES), "example": "delivered"})
    attempts = Int64(metadata={"example": 1})
    due_at = fields.AwareDateTime(metadata={"description": "When it is (or was last) due to be posted."})
    delivered_at = fields.AwareDateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    history = fields.List(fields.Nested(AttemptSchema))
    payload = fields.Dict()
    created_at = fields.AwareDateTime()


class DeliveryQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(DELIVERY_STATES))
    limit = Int64(load_default=50, validate=validate.Range(1, 100))
