"""Fields that rule params of every kind share."""

from typing import Any

from marshmallow import fields, validate

from reengage.platform.fields import Duration

__all__ = ["Duration", "event_names", "intent", "match_key"]

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
