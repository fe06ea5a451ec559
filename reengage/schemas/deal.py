"""Lost deals, their signals, outcomes and escalations, and product updates, as the API takes and shows them."""

from datetime import UTC
from typing import Any

from marshmallow import RAISE, Schema, fields, post_load, validate

from reengage.intake.schemas import ContactInputSchema, not_far_future
from reengage.models.deal import PRIORITIES, STATUSES, TIMINGS
from reengage.platform.fields import Int64, Money
from reengage.winback.analysis import CATEGORIES
from reengage.winback.outcomes import TYPES
from reengage.winback.score import SIGNALS

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code such as 'USD'.")
TAG = validate.Regexp(r"^[a-z0-9][a-z0-9 _.-]{0,79}$", error="Use 1-80 lower-case letters, digits, spaces, '_', "
                                                             "'.' or '-'.")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class StageSchema(Strict):
    stage = fields.String(required=True, validate=validate.Length(1, 100), metadata={"example": "contractsent"})
    at = fields.AwareDateTime(required=True, default_timezone=UTC)

    @post_load
    def stored(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """The stage as the deal keeps it in JSON: `at` in ISO 8601, as a CRM import writes it."""
        return {**data, "at": data["at"].isoformat()}


class DealInputSchema(Strict):
    """A lost deal: created, or updated by its external id (fields given replace the stored ones)."""

    external_id = fields.String(required=True, validate=validate.Length(1, 255), metadata={
        "description": "The deal's id in your CRM.", "example": "D-2024-0315"})
    name = fields.String(validate=validate.Length(1, 255), metadata={"example": "DataTech analytics platform"})
    company = fields.String(allow_none=True, validate=validate.Length(1, 255), metadata={"example": "DataTech"})
    industry = fields.String(allow_none=True, validate=validate.Length(1, 100), metadata={"example": "Analytics"})
    contacts = fields.List(fields.Nested(ContactInputSchema), validate=validate.Length(1, 20), metadata={
        "description": "The deal's people, the first one the draft is written to (upserted like contacts)."})
    owner = fields.String(allow_none=True, validate=validate.Length(1, 255), metadata={
        "description": "The account executive who owned the deal.", "example": "Jordan Lee"})
    owner_id = fields.String(allow_none=True, validate=validate.Length(1, 100), metadata={
        "description": "The owner's HubSpot owner id: the draft's task is assigned to them."})
    amount = Money(allow_none=True, metadata={"example": 420000})
    arr = Money(allow_none=True, metadata={"description": "ARR potential (escalation reads this, else amount).",
                                           "example": 420000})
    currency = fields.String(allow_none=True, validate=CURRENCY, metadata={"example": "USD"})
    lost_at = fields.AwareDateTime(default_timezone=UTC, validate=not_far_future, metadata={
        "description": "When the deal closed lost; defaults to now for a new deal."})
    loss_reason = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "example": "Feature gap: no real-time analytics"})
    category = fields.String(allow_none=True, validate=validate.OneOf(CATEGORIES), metadata={
        "description": "The loss category, when your CRM already knows it (else it is worked out)."})
    competitor = fields.String(allow_none=True, validate=validate.Length(1, 200), metadata={"example": "StreamCo"})
    notes = fields.String(allow_none=True, validate=validate.Length(max=20_000))
    stages = fields.List(fields.Nested(StageSchema), validate=validate.Length(max=100), metadata={
        "description": "The deal's history of stages, oldest first."})
    gaps = fields.List(fields.String(validate=TAG), validate=validate.Length(max=20), metadata={
        "description": "Tags of what the deal lacked; product updates with a matching tag close them.",
        "example": ["real-time-analytics"]})


class DealCorrectionSchema(Strict):
    """The account's own reading of the loss."""

    category = fields.String(required=True, allow_none=True, validate=validate.OneOf(CATEGORIES), metadata={
        "description": "The category it really was (null: back to the analysis)."})
    note = fields.String(allow_none=True, validate=validate.Length(max=500))


class SignalInputSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(SIGNALS), metadata={"example": "funding"})
    summary = fields.String(required=True, validate=validate.Length(1, 500), metadata={
        "example": "Raised a $50M Series B"})
    occurred_at = fields.AwareDateTime(default_timezone=UTC, validate=not_far_future, metadata={
        "description": "When it happened; defaults to now."})
    id = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "Your id for the signal: the same id again is recorded once."})


class SignalSchema(Schema):
    id = Int64()
    kind = fields.String(metadata={"enum": list(SIGNALS)})
    summary = fields.String()
    occurred_at = fields.AwareDateTime()
    source = fields.String(metadata={"enum": ["api", "event", "product_update"]})
    product_update_id = Int64(allow_none=True)


class OutcomeInputSchema(Strict):
    type = fields.String(required=True, validate=validate.OneOf(TYPES), metadata={
        "description": "contacted (an attempt), no_response or declined (a failed attempt), replied, meeting, "
                       "opportunity, won.", "example": "replied"})
    occurred_at = fields.AwareDateTime(default_timezone=UTC, validate=not_far_future)
    note = fields.String(allow_none=True, validate=validate.Length(max=500))
    id = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "Your id for the outcome: the same id again is recorded once."})


class OutcomeSchema(Schema):
    id = Int64()
    type = fields.String(metadata={"enum": list(TYPES)})
    occurred_at = fields.AwareDateTime()
    source = fields.String()
    note = fields.String(allow_none=True)


class EscalationSchema(Schema):
    id = Int64()
    kind = fields.String(metadata={"enum": ["executive", "strategy_review", "competitor_trouble"]})
    reason = fields.String(metadata={"example": "ARR potential $620,000.00 is above $500,000.00"})
    raised_at = fields.AwareDateTime()


class EvidenceSchema(Schema):
    category = fields.String(metadata={"enum": list(CATEGORIES)})
    words = fields.String(metadata={"example": "real time analytics"})
    source = fields.String(metadata={"enum": ["reason", "notes", "competitor"]})
    weight = fields.Float(metadata={"example": 6.0})


class ScoreReasonSchema(Schema):
    signal = fields.String()
    label = fields.String()
    points = Int64()
    summary = fields.String()


class DealSchema(Schema):
    """A lost deal and its win-back."""

    id = Int64()
    external_id = fields.String()
    source = fields.String(metadata={"enum": ["api", "event", "hubspot", "salesforce"]})
    name = fields.String()
    company = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    contact_id = Int64(allow_none=True, metadata={"description": "The primary contact."})
    contact_ids = fields.List(Int64())
    owner = fields.String(allow_none=True)
    owner_id = fields.String(allow_none=True)
    amount = fields.Float(allow_none=True)
    arr = fields.Float(allow_none=True)
    currency = fields.String(allow_none=True)
    lost_at = fields.AwareDateTime()
    loss_reason = fields.String(allow_none=True)
    competitor = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    stages = fields.List(fields.Dict())
    gaps = fields.List(fields.String())
    category = fields.String(allow_none=True, metadata={"enum": list(CATEGORIES)})
    category_source = fields.String(metadata={"enum": ["corrected", "stated", "inferred", "none"]})
    confidence = fields.Float(metadata={"example": 0.95})
    secondary = fields.List(fields.String(), metadata={"description": "Other categories the evidence points to."})
    category_evidence = fields.List(fields.Nested(EvidenceSchema), metadata={
        "description": "Why: each phrase of the loss reason or notes, or the competitor, and the weight it added."})
    correction = fields.Dict(allow_none=True)
    score = Int64(metadata={"example": 5})
    priority = fields.String(metadata={"enum": list(PRIORITIES)})
    score_reasons = fields.List(fields.Nested(ScoreReasonSchema))
    timing = fields.String(metadata={"enum": list(TIMINGS)})
    timing_reason = fields.String()
    window_start = fields.AwareDateTime()
    window_end = fields.AwareDateTime()
    recommendation = fields.Dict(metadata={"example": {
        "messenger": "ae_with_se", "messenger_label": "Original AE with SE support", "owner": "Jordan Lee",
        "channel": "email", "channel_label": "Email", "content": ["The release notes of Streaming Analytics"]}})
    draft = fields.Dict(metadata={"description": "subject, parts (the six), text, to, channel, messenger."})
    status = fields.String(metadata={"enum": list(STATUSES)})
    failed_attempts = Int64()
    contacted_at = fields.AwareDateTime(allow_none=True)
    replied_at = fields.AwareDateTime(allow_none=True)
    meeting_at = fields.AwareDateTime(allow_none=True)
    opportunity_at = fields.AwareDateTime(allow_none=True)
    won_at = fields.AwareDateTime(allow_none=True)
    ready_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When its window opened with high or medium priority (winback.ready)."})
    push_status = fields.String(allow_none=True, metadata={"enum": ["pending", "pushed", "skipped", "failed"]})
    push_note = fields.String(allow_none=True)
    signals = fields.List(fields.Nested(SignalSchema))
    outcomes = fields.List(fields.Nested(OutcomeSchema))
    escalations = fields.List(fields.Nested(EscalationSchema))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class DealQuerySchema(Strict):
    """Filters for listing deals, most recently lost first."""

    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    status = fields.String(validate=validate.OneOf(STATUSES))
    timing = fields.String(validate=validate.OneOf(TIMINGS))
    owner = fields.String()
    ready = fields.Boolean(metadata={"description": "Only deals whose window has opened (or not yet)."})
    lost_since = fields.AwareDateTime(default_timezone=UTC)
    limit = Int64(load_default=50, validate=validate.Range(1, 100))


class ProductUpdateInputSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "example": "Streaming Analytics"})
    summary = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "example": "sub-second dashboards on live event streams"})
    gaps = fields.List(fields.String(validate=TAG), required=True, validate=validate.Length(1, 20), metadata={
        "description": "Tags of the gaps it closes.", "example": ["real-time-analytics"]})
    released_at = fields.AwareDateTime(default_timezone=UTC, validate=not_far_future, metadata={
        "description": "Defaults to now; only deals lost before it are matched."})
    url = fields.Url(allow_none=True, schemes={"http", "https"})


class ProductUpdateSchema(Schema):
    id = Int64()
    name = fields.String()
    summary = fields.String(allow_none=True)
    gaps = fields.List(fields.String())
    released_at = fields.AwareDateTime()
    url = fields.String(allow_none=True)
    matched_deals = Int64(metadata={"description": "Lost deals whose gap it closes."})
    created_at = fields.AwareDateTime()
