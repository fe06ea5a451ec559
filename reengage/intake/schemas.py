"""What intake takes: contacts and events as senders post them, checked before they are stored."""

from datetime import UTC, timedelta

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from reengage.models import CONSENT_CHANNELS
from reengage.platform.db import utcnow
from reengage.platform.fields import Country, Email, Money, Phone, Properties, Timezone

IDENTIFIERS = ("external_id", "email", "phone", "hubspot_id", "salesforce_id")


class ContactInputSchema(Schema):
    """A contact's identifiers and fields; at least one identifier is needed to match it."""

    class Meta:
        unknown = RAISE

    external_id = fields.String(validate=validate.Length(1, 255), metadata={"example": "user-8812"})
    email = Email(validate=validate.Length(max=320), metadata={"example": "dana@example.com"})
    phone = Phone(metadata={"example": "+14155552671"})
    hubspot_id = fields.String(validate=validate.Length(1, 64), metadata={"example": "5101"})
    salesforce_id = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "The contact's (or lead's) id in Salesforce.", "example": "0035g00000XyZ12AAB"})
    first_name = fields.String(allow_none=True, validate=validate.Length(max=200), metadata={"example": "Dana"})
    last_name = fields.String(allow_none=True, validate=validate.Length(max=200), metadata={"example": "Reyes"})
    timezone = Timezone(allow_none=True, metadata={"example": "America/Chicago"})
    country = Country(allow_none=True, metadata={"example": "US"})
    properties = Properties(metadata={"description": "Merged into the stored properties; a null value removes a key."})
    consent = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CONSENT_CHANNELS)),
        values=fields.Boolean(allow_none=True),
        metadata={"description": "Consent per channel; null forgets it.", "example": {"email": True, "sms": False}},
    )

    @validates_schema
    def _has_identifier(self, data: dict, **_kwargs) -> None:
        if not any(data.get(name) for name in IDENTIFIERS):
            raise ValidationError(f"Give at least one of {', '.join(IDENTIFIERS)}.")


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
    # Without one, the moment the event is stored (reengage.intake.ingest): in the order events are stored, which is
    # the order they are processed in, so none is processed after one that happened later (and judged again).
    occurred_at = fields.AwareDateTime(
        default_timezone=UTC,
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
