"""Failure end state: an error event, and no success within a settle time (Atomic's known errors)."""

from datetime import datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from reengage.detection import watches
from reengage.detection.detectors.base import Detector
from reengage.detection.detectors.fields import Duration, event_names, intent, match_key
from reengage.models import Rule
from reengage.platform import durations

CATEGORIES = ("auth", "mfa", "maintenance", "latency", "task_failed", "unknown")
# Known, fixable causes mean a good chance that a well-timed retry succeeds.
INTENT = {"auth": "high", "mfa": "high", "maintenance": "high", "latency": "high",
          "task_failed": "medium", "unknown": "medium"}


class Params(Schema):
    class Meta:
        unknown = RAISE

    error_events = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 200)),
        values=fields.String(validate=validate.OneOf(CATEGORIES)),
        required=True, validate=validate.Length(min=1),
        metadata={"description": "Error event -> category.",
                  "example": {"Viewed MFA Page": "mfa", "Viewed Under Maintenance Page": "maintenance"}},
    )
    success_events = event_names(required=True, metadata={"example": ["Viewed Task Completed Page"]})
    settle = Duration(load_default="PT30M", metadata={"description": "How long a success may still follow."})
    service_key = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A property naming the outside service the error came from (a string, or an object "
                       "with a `name`): maintenance dropoffs wait for it to be reported operational.",
        "example": "company"})
    match_key = match_key()
    intent = intent(metadata={"description": "Overrides the intent of the error's category."})


def goals(params: dict[str, Any]) -> list[str]:
    """Events that end a watch of this kind."""
    names: list[str] = params["success_events"]
    return names


def on_event(rule: Rule, event: Row[Any]) -> None:
    """An error event opens a watch; a later error (the new end state) sets its category."""
    params = rule.params
    category = params["error_events"].get(event.type)
    if category is None:
        return
    deadline: datetime = event.occurred_at + durations.parse(params["settle"])
    match = watches.match_value(rule, event.properties) or ""
    if watches.first_between(rule, event.contact_id, match, params["success_events"], event.occurred_at, deadline):
        return
    details = {"error": event.type, "service": _service(event.properties.get(params.get("service_key", "")))}
    watches.open_or_extend(rule, event, deadline, match, category, details)


def on_expire(rule: Rule, watch: Row[Any]) -> watches.Verdict:
    """The session ended on the error."""
    category = watch.category or "unknown"
    intent = rule.params.get("intent") or INTENT[category]
    return watches.Verdict(category, intent, {"error": watch.details.get("error")}, watch.details.get("service"))


def _service(raw: Any) -> str | None:
    if isinstance(raw, dict):
        raw = raw.get("name")
    return str(raw)[:200] if raw else None


def reads(params: dict[str, Any]) -> list[str]:
    """Every event type this kind reads."""
    return [*params["error_events"], *params["success_events"]]


DETECTOR = Detector(kind="failure_end_state", params=Params, goals=goals, on_event=on_event, on_expire=on_expire,
                    reads=reads)
