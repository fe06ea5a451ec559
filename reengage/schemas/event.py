"""Events as senders post them, as intake answers them, and as the API lists them."""

from datetime import UTC, timedelta

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from reengage.platform.db import utcnow
from reengage.platform.fields import Money, Properties
from reengage.schemas.contact import ContactInputSchema

# Clocks drift; an event stamped further ahead than this is a mistake, not a schedule.
MAX_FUTURE_SKEW = timedelta(hours=24)


def not_far_future(value) -> None:
    """Refuse a time more than a day ahead (a clock error, not a plan)."""
    if value - utcnow() > MAX_FUTURE_SKEW:
        raise ValidationError("Is more than 24 hours in the future.")


class EventInputSchema(Schema):
    """One event. `id` is the sender's idempotency key: a replay is stored once."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(1, 255), metadata={"example": "chk_10293"})
    type = fields.String(required=True, validate=validate.Length(1, 200), metadata={"example": "application_started"})
    occurred_at = fields.AwareDateTime(
        default_timezone=UTC,
        load_default=utcnow,
        validate=not_far_future,
        metadata={"description": "When it happened (ISO 8601); defaults to now."},
    )
    contact = fields.Nested(ContactInputSchema, required=True)
    properties = Properties(load_default=dict, metadata={"example": {"application_id": "app-77", "step": 2}})
    value = Money(
        allow_none=True,
        metadata={"description": "Money at stake, in `currency`.", "example": 249.0},
    )
    currency = fields.String(
        allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code such as 'USD'."),
        metadata={"example": "USD"},
    )
    source = fields.String(allow_none=True, validate=validate.Length(max=200), metadata={"example": "checkout-app"})



class EventBatchSchema(Schema):
    """Up to the configured maximum of events, stored all or none."""

    class Meta:
        unknown = RAISE

    events = fields.List(fields.Nested(EventInputSchema), required=True, validate=validate.Length(min=1))


class IntakeResultSchema(Schema):
    """What intake did with one event."""

    id = fields.String(metadata={"example": "chk_10293"})
    contact_id = fields.Integer(metadata={"example": 42})
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
    contact_id = fields.Integer(metadata={"example": 42})
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

    contact_id = fields.Integer()
    type = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))
