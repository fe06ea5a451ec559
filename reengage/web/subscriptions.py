"""REST hook subscriptions as callers send them: an event is a trigger, filtered by that trigger's filters."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from triggers import TRIGGERS, polling


class HookInputSchema(Schema):
    """Subscribe `target_url` to an event's new items (the same items its polling trigger lists)."""

    class Meta:
        unknown = RAISE

    target_url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                            validate=validate.Length(max=2048),
                            metadata={"example": "https://hooks.zapier.com/hooks/standard/123/abc/"})
    event = fields.String(required=True, validate=validate.OneOf(list(TRIGGERS)),
                          metadata={"example": "dropoff.detected"})
    filters = fields.Dict(load_default=dict, metadata={
        "description": "The trigger's filters (see GET /v1/triggers); only matching items are posted.",
        "example": {"scenario": "sales.application_abandoned"}})
    label = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={"example": "zapier"})

    @validates_schema
    def _filters_known(self, data: dict, **_kwargs) -> None:
        if data.get("event") in TRIGGERS:
            try:
                data["filters"] = polling.filters_schema(TRIGGERS[data["event"]]).load(data.get("filters") or {})
            except ValidationError as error:
                raise ValidationError({"filters": error.messages}) from None
