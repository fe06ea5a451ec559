"""Dropoffs as the API shows and filters them."""

from datetime import UTC

from marshmallow import RAISE, Schema, fields, validate

from reengage.models.dropoff import INTENTS, STATUSES
from reengage.platform.fields import Int64


class DropoffSchema(Schema):
    """A detected dropoff."""

    id = Int64(metadata={"example": 7})
    rule = fields.String(attribute="rule_key", metadata={"example": "application_abandoned"})
    contact_id = Int64(metadata={"example": 42})
    scenario = fields.String(metadata={"example": "sales.application_abandoned"})
    stage = fields.String(metadata={"example": "sales"})
    kind = fields.String(metadata={"example": "inactivity"})
    category = fields.String(metadata={"description": "Why: `inactive` for inactivity rules.", "example": "inactive"})
    intent = fields.String(metadata={"enum": list(INTENTS), "example": "high"})
    match_value = fields.String(metadata={"description": "The rule's match key value ('' when none).",
                                          "example": "app-77"})
    value_at_risk = fields.Float(allow_none=True, metadata={"example": 249.0})
    currency = fields.String(allow_none=True, metadata={"example": "USD"})
    started_at = fields.AwareDateTime(metadata={"description": "When the start event happened."})
    occurred_at = fields.AwareDateTime(metadata={"description": "When the contact dropped off (the deadline)."})
    detected_at = fields.AwareDateTime()
    status = fields.String(metadata={"enum": list(STATUSES), "example": "open"})
    recovered_at = fields.AwareDateTime(allow_none=True)
    recovery_seconds = Int64(allow_none=True, metadata={"example": 5400})
    revenue = fields.Float(allow_none=True, metadata={"example": 249.0})
    dismissed_at = fields.AwareDateTime(allow_none=True)
    retracted_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "A false alarm (status `retracted`): when its goal happened, by the deadline, though it "
                       "arrived later. It counts nowhere."})
    service = fields.String(allow_none=True, metadata={"description": "The outside service behind a known error.",
                                                       "example": "Acme Payroll"})
    ready_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When outreach may begin; null while the service of a maintenance error is down."})
    segment = fields.Dict(metadata={"example": {"stage": "sales", "engagement": "medium", "events_30d": 3}})
    deep_link = fields.String(allow_none=True, metadata={
        "description": "Where calls to action lead: the start event's deep_link or resume_url.",
        "example": "https://app.example.com/resume/abc123"})
    routed_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When a flow was looked for."})
    route_note = fields.String(allow_none=True, metadata={"example": "enrolled in flow 'sales' (enrollment 12)"})
    test = fields.Boolean(metadata={
        "description": "Raised for a test contact (the console's \"try it now\"): counted in no metric. A Zap or "
                       "scenario that must act on real dropoffs only filters on it.", "example": False})


class DropoffQuerySchema(Schema):
    """Filters for listing dropoffs, newest first."""

    class Meta:
        unknown = RAISE

    scenario = fields.String()
    stage = fields.String()
    rule = fields.String()
    intent = fields.String(validate=validate.OneOf(INTENTS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    contact_id = Int64()
    ready = fields.Boolean(metadata={"description": "Only dropoffs ready (or not yet ready) for outreach."})
    since = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "Detected at or after this time."})
    limit = Int64(load_default=50, validate=validate.Range(1, 100))
