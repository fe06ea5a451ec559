"""Fields that rule params of every kind share."""

from datetime import timedelta

from marshmallow import ValidationError, fields, validate

from reengage import durations

MAX_SPAN = timedelta(days=365)


class Duration(fields.String):
    """A duration as people write it (`PT24H`, `24h`, `3d`), kept as written."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            span = durations.parse(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if not timedelta(0) < span <= MAX_SPAN:
            raise ValidationError("Must be more than nothing and at most 365 days.")
        return text


def event_names(**kwargs) -> fields.List:
    """A non-empty list of event types."""
    return fields.List(fields.String(validate=validate.Length(1, 200)), validate=validate.Length(min=1), **kwargs)


def match_key() -> fields.String:
    """The property that tells parallel attempts apart (two applications are two watches)."""
    return fields.String(validate=validate.Length(1, 100), metadata={
        "description": "A property that tells parallel attempts apart.", "example": "application_id"})


def intent(**kwargs) -> fields.String:
    """A base intent: low, medium or high."""
    return fields.String(validate=validate.OneOf(("low", "medium", "high")), **kwargs)
