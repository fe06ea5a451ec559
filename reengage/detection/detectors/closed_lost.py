"""Closed-lost: a deal lost, detected from a deal event, filed under its loss reason."""

from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from reengage.detection import watches
from reengage.detection.detectors.base import Detector
from reengage.detection.detectors.fields import event_names, grace, intent, match_key, settle
from reengage.models import Rule
from reengage.winback import analysis
from reengage.winback import events as winback_events


class Params(Schema):
    class Meta:
        unknown = RAISE

    deal_events = event_names(load_default=lambda: ["deal.closed_lost"])
    won_events = event_names(load_default=lambda: ["deal.closed_won"], metadata={
        "description": "A deal won after it was lost recovers its dropoff."})
    reason_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100), metadata={
        "description": "A property to read the loss reason from first; then `loss_reason`, `closed_lost_reason` "
                       "and `reason`, as deals read them."})
    settle = settle()
    match_key = match_key()
    intent = intent(load_default="medium")


def goals(params: dict[str, Any]) -> list[str]:
    """Events that end a watch of this kind."""
    names: list[str] = params["won_events"]
    return names


def on_event(rule: Rule, event: Row[Any]) -> None:
    """A lost deal is due at once: the clock raises it on its next tick."""
    if event.type not in rule.params["deal_events"]:
        return
    match = watches.match_value(rule, event.properties) or ""
    props = event.properties or {}
    # The same analysis as the deal's, of the same properties: the dropoff and the deal agree.
    category = winback_events.analysis_of(props, rule.params.get("reason_key")).category or "unknown"
    details = {"reason": winback_events.read(props, "loss_reason", rule.params.get("reason_key"))}
    watches.open_or_extend(rule, event, event.occurred_at, match, category, details, grace(rule.params))


def on_expire(rule: Rule, watch: Row[Any]) -> watches.Verdict:
    """Filed under the scenario of its loss reason."""
    category = watch.category or "unknown"
    scenario = f"closed_lost.{category}" if category in analysis.CATEGORIES else rule.scenario
    return watches.Verdict(category, rule.params.get("intent", "medium"),
                           {"loss_reason": watch.details.get("reason")}, scenario=scenario)


def reads(params: dict[str, Any]) -> list[str]:
    """Every event type this kind reads."""
    return [*params["deal_events"], *params["won_events"]]


DETECTOR = Detector(kind="closed_lost", params=Params, goals=goals, on_event=on_event, on_expire=on_expire,
                    reads=reads, grace=grace)
