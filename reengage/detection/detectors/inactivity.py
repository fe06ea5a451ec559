"""Inactivity: a start event, then no goal event within a wait."""

import logging
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from reengage.detection import watches
from reengage.detection.detectors.base import Detector
from reengage.detection.detectors.fields import Duration, event_names, grace, intent, match_key, settle
from reengage.models import Rule
from reengage.platform import durations

log = logging.getLogger(__name__)


class Params(Schema):
    class Meta:
        unknown = RAISE

    start_events = event_names(required=True, metadata={"example": ["application_started"]})
    goal_events = event_names(required=True, metadata={"example": ["application_completed"]})
    wait = Duration(required=True, metadata={"description": "ISO 8601 ('PT24H') or short ('24h').", "example": "PT24H"})
    wait_from = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A property of the start event holding the time the wait counts from (else when it "
                       "happened), e.g. a booked call's `starts_at`.", "example": "starts_at"})
    settle = settle()
    match_key = match_key()
    intent = intent(load_default="medium")


def goals(params: dict[str, Any]) -> list[str]:
    """Events that end a watch of this kind."""
    names: list[str] = params["goal_events"]
    return names


def on_event(rule: Rule, event: Row[Any]) -> None:
    """A start event opens a watch (or, with a watch open, restarts its wait)."""
    params = rule.params
    if event.type not in params["start_events"]:
        return
    start = event.occurred_at
    if params.get("wait_from"):
        start = watches.timestamp(event.properties.get(params["wait_from"]))
        if start is None:
            log.warning("event %s has no usable %r for rule %s: no watch opened",
                        event.id, params["wait_from"], rule.key)
            return
    deadline = start + durations.parse(params["wait"])
    match = watches.match_value(rule, event.properties) or ""
    if watches.first_between(rule, event.contact_id, match, params["goal_events"], event.occurred_at, deadline):
        return  # its goal arrived first
    watches.open_or_extend(rule, event, deadline, match, grace=grace(params))


def on_expire(rule: Rule, watch: Row[Any]) -> watches.Verdict:
    """No goal in time: the contact went quiet."""
    return watches.Verdict("inactive", rule.params.get("intent", "medium"))


def reads(params: dict[str, Any]) -> list[str]:
    """Every event type this kind reads."""
    return [*params["start_events"], *params["goal_events"]]


DETECTOR = Detector(kind="inactivity", params=Params, goals=goals, on_event=on_event, on_expire=on_expire,
                    reads=reads, grace=grace)
