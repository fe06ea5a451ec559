"""A step's offset as the console shows and takes it: day N after enrollment, at a time of that day."""

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from reengage.platform import durations
from reengage.settings import CLOCK


class TimingSchema(Schema):
    """The day and time fields of a step's form."""

    class Meta:
        unknown = RAISE

    day = fields.Integer(required=True, validate=validate.Range(0, 3650))
    time = fields.String(required=True, validate=CLOCK)


def shown_offset(offset: str) -> dict[str, Any]:
    """`P3DT9H` as {"day": 3, "time": "09:00"}."""
    moment = durations.offset(offset)
    minutes = moment.seconds // 60
    return {"day": moment.days, "time": f"{minutes // 60:02d}:{minutes % 60:02d}"}


def written_offset(day: Any, time: Any) -> str:
    """The day and time fields as the ISO 8601 offset a flow stores; ValidationError naming the bad field."""
    timing = TimingSchema().load({"day": day, "time": time})
    hours, minutes = timing["time"].split(":")
    return f"P{timing['day']}DT{int(hours)}H{int(minutes)}M"
