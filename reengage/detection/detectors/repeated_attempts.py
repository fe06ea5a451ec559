"""Repeated attempts: N or more unsuccessful attempts within a window, and no success."""


from datetime import timedelta
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from reengage.detection import watches
from reengage.detection.detectors.base import Detector
from reengage.detection.detectors.fields import Duration, event_names, intent, match_key
from reengage.models import Rule
from reengage.platform import durations

# Its dropoffs are filed under the kind's own name.
CATEGORY = "repeated_attempts"


class Params(Schema):
    class Meta:
        unknown = RAISE

    attempt_events = event_names(required=True, metadata={
        "description": "Events that each mark one attempt.", "example": ["Viewed Task Failed Page"]})
    success_events = event_names(required=True, metadata={"example": ["Viewed Task Completed Page"]})
    min_attempts = fields.Integer(load_default=3, validate=validate.Range(2, 100))
    window = Duration(load_default="P7D", metadata={"description": "How far back attempts count."})
    settle = Duration(load_default="PT30M", metadata={"description": "How long a success may still follow."})
    match_key = match_key()
    intent = intent(load_default="high")


def goals(params: dict[str, Any]) -> list[str]:
    """Events that end a watch of this kind."""
    names: list[str] = params["success_events"]
    return names


def on_event(rule: Rule, event: Row[Any]) -> None:
    """Each attempt counts the attempts since the last success; enough of them open a watch."""
    params = rule.params
    if event.type not in params["attempt_events"]:
        return
    match = watches.match_value(rule, event.properties) or ""
    since = event.occurred_at - durations.parse(params["window"])
    seen = watches.events_between(rule, event.contact_id, match, params["attempt_events"] + params["success_events"],
                                  since, event.occurred_at)
    attempts = 0
    for _, type_ in seen:
        attempts = 0 if type_ in params["success_events"] else attempts + 1
    if attempts < params["min_attempts"]:
        return
    deadline = event.occurred_at + durations.parse(params["settle"])
    if watches.first_between(rule, event.contact_id, match, params["success_events"], event.occurred_at, deadline):
        return
    watches.open_or_extend(rule, event, deadline, match, CATEGORY, {"attempts": attempts})


def on_expire(rule: Rule, watch: Row[Any]) -> watches.Verdict:
    """Tried and failed, again and again: keen, and stuck."""
    return watches.Verdict(CATEGORY, rule.params.get("intent", "high"), {"attempts": watch.details.get("attempts")})


def reads(params: dict[str, Any]) -> list[str]:
    """Every event type this kind reads."""
    return [*params["attempt_events"], *params["success_events"]]


def looks_back(params: dict[str, Any]) -> timedelta:
    """How far back an attempt counts the attempts before it."""
    return durations.parse(params["window"])


DETECTOR = Detector(kind="repeated_attempts", params=Params, goals=goals, on_event=on_event, on_expire=on_expire,
                    reads=reads, looks_back=looks_back)
