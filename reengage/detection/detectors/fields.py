"""Fields that rule params of every kind share."""

from datetime import timedelta
from typing import Any

from marshmallow import fields, validate

from reengage.platform import durations
from reengage.platform.fields import Duration

__all__ = ["Duration", "event_names", "grace", "intent", "match_key", "settle"]

def event_names(**kwargs: Any) -> fields.List[str]:
    """A non-empty list of event types."""
    return fields.List(fields.String(validate=validate.Length(1, 200)), validate=validate.Length(min=1), **kwargs)


def match_key() -> fields.String:
    """The property that tells parallel attempts apart (two applications are two watches)."""
    return fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A property that tells parallel attempts apart.", "example": "application_id"})


def intent(**kwargs: Any) -> fields.String:
    """A base intent: low, medium or high."""
    return fields.String(validate=validate.OneOf(("low", "medium", "high")), **kwargs)


class Grace(Duration):
    """A duration that may be nothing (`PT0S`): no grace."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = fields.String._deserialize(self, value, attr, data, **kwargs)
        try:
            if durations.parse(text) == timedelta(0):
                return text
        except ValueError:
            pass
        return super()._deserialize(value, attr, data, **kwargs)


def settle() -> Duration:
    """A grace after the deadline for goals from sources that deliver late: the dropoff is raised after it."""
    return Grace(load_default="PT0S", metadata={
        "description": "How long after the deadline a goal that happened in time may still arrive: the dropoff is "
                       "raised (and acted on) only after it.", "example": "PT10M"})


def grace(params: dict[str, Any]) -> timedelta:
    """The `settle` grace of params that have one."""
    return durations.parse(params.get("settle") or "PT0S")
