"""Low engagement: fewer than N qualifying events in a window after a start (onboarding, renewals)."""

from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from reengage.detection import watches
from reengage.detection.detectors.base import Detector
from reengage.detection.detectors.fields import Duration, event_names, grace, intent, match_key, settle
from reengage.models import Rule
from reengage.platform import durations

# Its dropoffs are filed under the kind's own name.
CATEGORY = "low_engagement"


class Params(Schema):
    class Meta:
        unknown = RAISE

    start_events = event_names(required=True, metadata={"example": ["onboarding_started"]})
    qualifying_events = event_names(required=True, metadata={"example": ["session_started", "feature_used"]})
    min_events = fields.Integer(required=True, validate=validate.Range(1, 10_000), metadata={"example": 3})
    window = Duration(required=True, metadata={"example": "P14D"})
    settle = settle()
    match_key = match_key()
    intent = intent(load_default="medium")


def goals(params: dict[str, Any]) -> list[str]:
    """None: the verdict waits for the window to end."""
    return []


def on_event(rule: Rule, event: Row[Any]) -> None:
    """A start event opens a window (one at a time)."""
    params = rule.params
    if event.type not in params["start_events"]:
        return
    match = watches.match_value(rule, event.properties) or ""
    if not watches.has_open(rule, event.contact_id, match):
        deadline = event.occurred_at + durations.parse(params["window"])
        watches.open_or_extend(rule, event, deadline, match, CATEGORY, grace=grace(params))


def on_expire(rule: Rule, watch: Row[Any]) -> watches.Verdict | None:
    """Count what the contact did in the window: enough is no dropoff."""
    params = rule.params
    done = watches.events_between(rule, watch.contact_id, watch.match_value, params["qualifying_events"],
                                  watch.started_at, watch.deadline)
    if len(done) >= params["min_events"]:
        return None
    return watches.Verdict(CATEGORY, params.get("intent", "medium"),
                           {"qualifying_events": len(done), "needed": params["min_events"]})


def reads(params: dict[str, Any]) -> list[str]:
    """Every event type this kind reads."""
    return [*params["start_events"], *params["qualifying_events"]]


DETECTOR = Detector(kind="low_engagement", params=Params, goals=goals, on_event=on_event, on_expire=on_expire,
                    reads=reads, grace=grace)
