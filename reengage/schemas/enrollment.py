"""Enrollments, messages, the outbox and suppressions, as the API shows and filters them."""

from marshmallow import RAISE, Schema, fields, validate

from reengage.channels import CHANNELS
from reengage.models import CONSENT_CHANNELS
from reengage.models.enrollment import EXIT_REASONS
from reengage.models.enrollment import STATUSES as ENROLLMENT_STATUSES
from reengage.models.message import STATUSES as MESSAGE_STATUSES
from reengage.models.suppression import REASONS
from reengage.platform.fields import Int64


class MessageSchema(Schema):
    """One step of one enrollment: when it was planned, when it goes, and what became of it."""

    id = Int64(metadata={"example": 501})
    enrollment_id = Int64(metadata={"example": 12})
    flow_id = Int64(metadata={"example": 3})
    contact_id = Int64(metadata={"example": 42})
    step = fields.String(metadata={"description": "<phase>.<step key>", "example": "1.pick-up"})
    phase = Int64(metadata={"example": 1})
    channel = fields.String(metadata={"enum": list(CHANNELS), "example": "email"})
    variant = fields.String(allow_none=True, metadata={"example": "B"})
    status = fields.String(metadata={"enum": list(MESSAGE_STATUSES), "example": "sent"})
    reason = fields.String(allow_none=True, metadata={
        "description": "Why it was skipped, failed, or is being retried.", "example": "enrollment exited: converted"})
    planned_at = fields.AwareDateTime(metadata={"description": "Enrollment plus the step's offset."})
    due_at = fields.AwareDateTime(metadata={"description": "When it goes: planned_at moved into an allowed slot."})
    moved_because = fields.String(allow_none=True, metadata={"example": "public holiday (Thanksgiving Day)"})
    attempts = Int64()
    queued_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    opened_at = fields.AwareDateTime(allow_none=True)
    machine_opened_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When a mail privacy proxy first loaded its images (not a person opening it)."})
    clicked_at = fields.AwareDateTime(allow_none=True)
    provider = fields.String(allow_none=True, metadata={"example": "outbox"})
    provider_id = fields.String(allow_none=True)
    content = fields.Dict(metadata={"description": "What went out, as rendered when it was sent."})


class EnrollmentSchema(Schema):
    """One contact in one flow."""

    id = Int64(metadata={"example": 12})
    flow_id = Int64(metadata={"example": 3})
    contact_id = Int64(metadata={"example": 42})
    dropoff_id = Int64(allow_none=True, metadata={"example": 7})
    status = fields.String(metadata={"enum": list(ENROLLMENT_STATUSES), "example": "active"})
    exit_reason = fields.String(allow_none=True, metadata={"enum": list(EXIT_REASONS), "example": None})
    holdout = fields.Boolean(metadata={"description": "In the holdout group: gets no messages."})
    variants = fields.Dict(metadata={"example": {"1.pick-up": "B"}})
    source = fields.String(metadata={"example": "dropoff"})
    started_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    ends_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Held-out enrollments: when the last step would have gone (they complete then)."})


class EnrollmentDetailSchema(EnrollmentSchema):
    """An enrollment with its messages, in send order."""

    messages = fields.List(fields.Nested(MessageSchema))


class EnrollmentQuerySchema(Schema):
    """Filters for listing enrollments, newest first."""

    class Meta:
        unknown = RAISE

    flow_id = Int64()
    contact_id = Int64()
    dropoff_id = Int64()
    status = fields.String(validate=validate.OneOf(ENROLLMENT_STATUSES))
    limit = Int64(load_default=50, validate=validate.Range(1, 100))


class MessageQuerySchema(Schema):
    """Filters for listing messages, newest first."""

    class Meta:
        unknown = RAISE

    enrollment_id = Int64()
    flow_id = Int64()
    contact_id = Int64()
    channel = fields.String(validate=validate.OneOf(list(CHANNELS)))
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    phase = Int64(validate=validate.Range(1, 5))
    limit = Int64(load_default=50, validate=validate.Range(1, 100))


class OutboxItemSchema(Schema):
    """An email kept in the outbox because no SendGrid account is connected."""

    id = Int64(attribute="message_id", metadata={"example": 501})
    enrollment_id = Int64(metadata={"example": 12})
    to = fields.String(metadata={"example": "dana@example.com"})
    subject = fields.String(metadata={"example": "Dana, your progress is saved"})
    text = fields.String()
    html = fields.String()
    sendgrid_template_id = fields.String(allow_none=True)
    sent_at = fields.AwareDateTime()


class OutboxQuerySchema(Schema):
    """Filters for the outbox, newest first."""

    class Meta:
        unknown = RAISE

    contact_id = Int64()
    limit = Int64(load_default=50, validate=validate.Range(1, 100))


class SuppressionSchema(Schema):
    """A contact who gets nothing more on a channel."""

    id = Int64(metadata={"example": 4})
    contact_id = Int64(metadata={"example": 42})
    channel = fields.String(metadata={"enum": list(CONSENT_CHANNELS), "example": "email"})
    reason = fields.String(metadata={"enum": list(REASONS), "example": "unsubscribed"})
    created_at = fields.AwareDateTime()


class SuppressionInputSchema(Schema):
    """Suppress a contact on a channel (their active enrollments exit)."""

    class Meta:
        unknown = RAISE

    contact_id = Int64(required=True, metadata={"example": 42})
    channel = fields.String(required=True, validate=validate.OneOf(CONSENT_CHANNELS), metadata={"example": "email"})
    reason = fields.String(load_default="manual", validate=validate.OneOf(REASONS), metadata={"example": "bounced"})


class SuppressionQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    contact_id = Int64()
    channel = fields.String(validate=validate.OneOf(CONSENT_CHANNELS))
    limit = Int64(load_default=100, validate=validate.Range(1, 500))
