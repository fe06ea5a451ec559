"""Abandoned session: a close after a step of the flow; the deeper the step, the higher the intent."""

from datetime import timedelta
from typing import Any

from marshmallow import RAISE, Schema, fields
from sqlalchemy import Row

from reengage.detection import watches
from reengage.detection.detectors.base import Detector
from reengage.detection.detectors.fields import Duration, event_names, match_key
from reengage.models import Rule
from reengage.platform import durations

CATEGORY = "unknown_exit"


class Params(Schema):
    class Meta:
        unknown = RAISE

    close_events = event_names(required=True, metadata={"example": ["onClose"]})
    steps = event_names(required=True, metadata={
        "description": "Step events from shallow to deep.",
        "example": ["Viewed Login Page", "Viewed Distribution Confirmation Page"]})
    success_events = event_names(required=True, metadata={"example": ["Viewed Task Completed Page"]})
    unless_events = fields.List(fields.String(), load_default=list, metadata={
        "description": "Events that explain the exit (known errors): a session with one is left to other rules."})
    session = Duration(load_default="PT2H", metadata={"description": "How far back before the close steps count."})
    settle = Duration(load_default="PT30M", metadata={"description": "How long a success may still follow."})
    require_step = fields.Boolean(load_default=True, metadata={
        "description": "A close before any listed step is not a dropoff."})
    match_key = match_key()


def goals(params: dict[str, Any]) -> list[str]:
    """Events that end a watch of this kind."""
    names: list[str] = params["success_events"]
    return names


def on_event(rule: Rule, event: Row[Any]) -> None:
    """A close event looks back over the session for the deepest step reached."""
    params = rule.params
    if event.type not in params["close_events"]:
        return
    match = watches.match_value(rule, event.properties) or ""
    since = event.occurred_at - durations.parse(params["session"])
    kinds = params["steps"] + params["success_events"] + params["unless_events"]
    depth = 0
    for _, type_ in watches.events_between(rule, event.contact_id, match, kinds, since, event.occurred_at):
        if type_ in params["success_events"] or type_ in params["unless_events"]:
            return
        if type_ in params["steps"]:
            depth = max(depth, params["steps"].index(type_) + 1)
    if depth == 0 and params["require_step"]:
        return
    deadline = event.occurred_at + durations.parse(params["settle"])
    if watches.first_between(rule, event.contact_id, match, params["success_events"], event.occurred_at, deadline):
        return
    step = params["steps"][depth - 1] if depth else None
    watches.open_or_extend(rule, event, deadline, match, CATEGORY,
                           {"depth": depth, "steps": len(params["steps"]), "step": step})


def on_expire(rule: Rule, watch: Row[Any]) -> watches.Verdict:
    """Left mid-flow for no known reason: intent by how far they got."""
    depth, steps = watch.details.get("depth", 0), watch.details.get("steps", 1)
    # The ladder in thirds: the last third of the steps is high intent, the first third low.
    third = max(0, (depth * 3 + steps - 1) // steps - 1)
    return watches.Verdict(CATEGORY, watches.INTENTS[third], {"depth": depth, "step": watch.details.get("step")})


def reads(params: dict[str, Any]) -> list[str]:
    """Every event type this kind reads."""
    return [*params["close_events"], *params["steps"], *params["success_events"], *params["unless_events"]]


def looks_back(params: dict[str, Any]) -> timedelta:
    """How far back a close looks for the steps of its session."""
    return durations.parse(params["session"])


DETECTOR = Detector(kind="abandoned_session", params=Params, goals=goals, on_event=on_event, on_expire=on_expire,
                    reads=reads, looks_back=looks_back)
