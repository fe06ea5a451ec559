"""Atomic Transact payloads: SDK callbacks forwarded by an app, and Atomic's CloudEvents webhooks."""

from datetime import UTC

from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate

CALLBACKS = ("onInteraction", "onClose", "onFinish")


class AtomicForwardSchema(Schema):
    """An SDK callback as the customer's app forwards it."""

    class Meta:
        unknown = RAISE

    callback = fields.String(required=True, validate=validate.OneOf(CALLBACKS), metadata={"example": "onInteraction"})
    identifier = fields.String(required=True, validate=validate.Length(1, 255), metadata={
        "description": "The customer's own user id (Transact's `identifier`).", "example": "user-8812"})
    payload = fields.Dict(required=True, metadata={
        "description": "The callback's argument as the SDK gave it.",
        "example": {"name": "Viewed MFA Page", "company": {"_id": "c-1", "name": "Acme Payroll"}}})
    id = fields.String(validate=validate.Length(1, 255), metadata={
        "description": "An idempotency key; without one, an identical payload is stored once."})
    occurred_at = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Defaults to now."})


class AtomicUserSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # Atomic adds fields over time; only the identifier matters here

    identifier = fields.String(required=True, validate=validate.Length(1, 255))


class AtomicCloudEventSchema(Schema):
    """The body of an Atomic webhook (CloudEvents headers `ce-type`, `ce-id`, `ce-time`)."""

    class Meta:
        unknown = INCLUDE  # Atomic's envelope grows: what it adds is kept with the event, as `envelope`

    eventType = fields.String(required=True, validate=validate.Length(1, 200),
                              metadata={"example": "task-status-updated"})
    eventTime = fields.AwareDateTime(default_timezone=UTC)
    user = fields.Nested(AtomicUserSchema, required=True)
    data = fields.Dict(load_default=dict)
