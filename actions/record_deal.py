"""Record a lost deal from any CRM: analysed, scored, timed and drafted at once."""

from typing import Any

from marshmallow import fields

from actions.action import Action
from reengage import samples
from reengage.intake.schemas import ContactInputSchema
from reengage.platform import db
from reengage.schemas.deal import DealInputSchema, DealSchema
from reengage.winback import deals


class RecordDealInput(DealInputSchema):
    class Meta:
        exclude = ("contacts", "stages")

    contact = fields.Nested(ContactInputSchema, metadata={"description": "The buyer the win-back is written to."})


def perform(account_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Upsert the deal and answer it assessed."""
    data = dict(data)
    if "contact" in data:
        data["contacts"] = [data.pop("contact")]
    deal, _ = db.retry_on_conflict(lambda: deals.upsert(account_id, data, "api", db.utcnow()))
    return deals.shown([deal])[0]


ACTION = Action(
    key="record-deal",
    noun="Deal",
    label="Record Lost Deal",
    description="Record a deal that closed lost (or update it by its external id): Reengage categorises the loss, "
                "scores readiness from signals, times the win-back, recommends who reaches out and drafts the note.",
    input=RecordDealInput,
    output=DealSchema,
    sample={
        "id": 12, "external_id": "D-2024-0315", "source": "api", "name": "DataTech analytics platform",
        "company": "DataTech", "industry": "Analytics", "contact_id": 42, "contact_ids": [42], "owner": "Jordan Lee",
        "owner_id": None, "amount": 180000.0, "arr": None, "currency": "USD", "lost_at": "2026-03-15T00:00:00+00:00",
        "loss_reason": "Feature gap: real-time analytics", "competitor": None, "notes": None, "stages": [],
        "gaps": ["real-time-analytics"], "category": "feature_gap", "category_source": "inferred", "confidence": 0.95,
        "secondary": [], "correction": None, "score": 0, "priority": "low", "score_reasons": [], "timing": "long",
        "timing_reason": "nothing has changed the reason for the loss yet", "window_start": "2026-09-15T00:00:00+00:00",
        "window_end": "2027-03-15T00:00:00+00:00",
        "recommendation": {"messenger": "ae_with_se", "messenger_label": "Original AE with SE support",
                           "owner": "Jordan Lee", "channel": "email", "channel_label": "Email",
                           "content": ["A short demo of what now covers the gap"]},
        "draft": {"subject": "What has changed since March 2026", "text": "Hi Sarah, ...", "parts": [],
                  "to": samples.DEAL_CONTACT["email"], "channel": "email", "messenger": "ae_with_se"},
        "status": "lost", "failed_attempts": 0, "contacted_at": None, "replied_at": None, "meeting_at": None,
        "opportunity_at": None, "won_at": None, "ready_at": None, "push_status": None, "push_note": None,
        "signals": [], "outcomes": [], "escalations": [], "created_at": "2026-03-15T00:00:00+00:00",
        "updated_at": "2026-03-15T00:00:00+00:00",
    },
    perform=perform,
)
