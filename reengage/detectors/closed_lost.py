"""Closed-lost: a deal lost, detected from a deal event, filed under its loss reason."""

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from reengage import watches
from reengage.detectors.fields import event_names, intent, match_key
from reengage.models import Rule, Watch

KIND = "closed_lost"
# Loss reasons of the catalogue, and words that name them in a CRM's free-text reason.
REASONS = {
    "price": ("price", "budget", "cost", "expensive"),
    "feature_gap": ("feature", "functionality", "gap", "missing"),
    "timing": ("timing", "not now", "later", "next year", "next quarter"),
    "competition": ("competitor", "competition", "went with", "chose"),
    "internal_champion": ("champion", "left the company", "decision maker", "reorg"),
    "technical_fit": ("technical", "integration", "security", "fit"),
    "trust": ("trust", "relationship", "reputation"),
}


class Params(Schema):
    class Meta:
        unknown = RAISE

    deal_events = event_names(load_default=lambda: ["deal.closed_lost"])
    won_events = event_names(load_default=lambda: ["deal.closed_won"], metadata={
        "description": "A deal won after it was lost recovers its dropoff."})
    reason_key = fields.String(load_default="closed_lost_reason", validate=validate.Length(1, 100), metadata={
        "description": "The property holding the loss reason (HubSpot's `closed_lost_reason` by default)."})
    match_key = match_key()
    intent = intent(load_default="medium")


def goals(params: dict) -> list[str]:
    """Events that end a watch of this kind."""
    return params["won_events"]


def reason(text: object) -> str:
    """The catalogue's loss reason for a CRM's free text (`unknown` when none fits)."""
    if not isinstance(text, str):
        return "unknown"
    lowered = text.lower().replace("-", " ").replace("_", " ")
    for key, words in REASONS.items():
        if key.replace("_", " ") in lowered or any(word in lowered for word in words):
            return key
    return "unknown"


def on_event(rule: Rule, event: Row) -> None:
    """A lost deal is due at once: the clock raises it on its next tick."""
    if event.type not in rule.params["deal_events"]:
        return
    match = watches.match_value(rule, event.properties) or ""
    category = reason(event.properties.get(rule.params["reason_key"]))
    details = {"reason": event.properties.get(rule.params["reason_key"])}
    watches.open_or_extend(rule, event, event.occurred_at, match, category, details)


def on_expire(rule: Rule, watch: Watch) -> watches.Verdict:
    """Filed under the scenario of its loss reason."""
    category = watch.category or "unknown"
    scenario = f"closed_lost.{category}" if category in REASONS else rule.scenario
    return watches.Verdict(category, rule.params.get("intent", "medium"),
                           {"loss_reason": watch.details.get("reason")}, scenario=scenario)
